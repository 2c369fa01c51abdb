"""Polls (pulse and general), their answers, and the annual survey of a committee.

No row ever holds a user ID together with an answer: a vote is stored under a keyed hash
of poll and voter (`storage.voters`), so a changed answer replaces the earlier one
while the database alone cannot tell who gave it. Votes and free texts carry random IDs and
are written again in random order at every change (`storage.shuffled`), so neither their
IDs nor their place tells the order of answering. Who takes part in a running survey is
kept apart (`survey_participant`), without what they answered or when, so that reminders
go to the right people; when the survey ends only how many took part stays
(`survey.participated`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.shuffled import random_id
from storage.types import UTCDateTime

# The random IDs of votes and free texts (`storage.shuffled`): 64 bits on PostgreSQL, and
# SQLite's INTEGER (64 bits too), which alone keeps the column the table's rowid.
RandomId = BigInteger().with_variant(Integer(), "sqlite")


def _random_id_column() -> Column[int]:
    # Never counted up by the database (PostgreSQL's old serial sequence stays unused).
    return Column(RandomId, primary_key=True, autoincrement=False, default=random_id)


class PollKind(StrEnum):
    PULSE = "pulse"  # 1–5 satisfaction
    GENERAL = "general"  # a question with 2–20 answers
    SURVEY = "survey"  # one statement (1–5) of the annual survey
    CIRCULATION = "circulation"  # a decision by circulation (Umlaufverfahren), disclosed


class Poll(SQLModel, table=True):
    """A poll of a committee room. Pulses and general polls are numbered per room from 1;
    the statements of a survey have no number (they are asked by direct message)."""

    __tablename__ = "poll"
    __table_args__ = (
        UniqueConstraint("room_id", "number", name="uq_poll_room_id_number"),
        UniqueConstraint("source_event_id", name="uq_poll_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    number: int | None = None
    # A PollKind.
    kind: str = Field(max_length=16, index=True)
    question: str = Field(sa_column=Column(Text, nullable=False))
    # JSON: [{"id": "a1", "text": "…"}, …] in the order shown.
    answers: str = Field(sa_column=Column(Text, nullable=False))
    max_selections: int = 1
    # Asked by direct message: only the totals appear in the room.
    anonymous: bool = False
    created_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closes_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))
    closed_by: str | None = Field(default=None, max_length=255)
    source_event_id: str = Field(max_length=255)
    survey_id: int | None = Field(default=None, foreign_key="survey.id", index=True)
    # Position of the statement in its survey's questionnaire.
    position: int = 0


class PollVote(SQLModel, table=True):
    """One voter's current answer: `voter` is a keyed hash, never a user ID; `id` random."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "voter", name="uq_poll_vote_poll_id_voter"),)

    id: int | None = Field(default=None, sa_column=_random_id_column())
    poll_id: int = Field(foreign_key="poll.id", index=True)
    voter: str = Field(max_length=64)
    # JSON list of answer IDs; empty: a spoiled vote (counted as taking part, no answer).
    answers: str = Field(sa_column=Column(Text, nullable=False))


class Survey(SQLModel, table=True):
    """The annual evaluation of one committee room, started by the coordination."""

    __tablename__ = "survey"
    __table_args__ = (UniqueConstraint("source_event_id", "room_id", name="uq_survey_source"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    year: int = Field(index=True)
    started_by: str = Field(max_length=255)
    started_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closes_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The free-text question as asked (None: the questionnaire has none).
    free_question: str | None = Field(default=None, sa_column=Column(Text))
    # How many members were asked (the base of the participation rate).
    invited: int = 0
    # How many answered at least one statement, stored when the survey ends (its
    # participants are deleted then); None while it runs.
    participated: int | None = None
    source_event_id: str = Field(max_length=255)


class SurveyParticipant(SQLModel, table=True):
    """Who is asked in a running survey and how far they got — never what they answered,
    nor when: the rows go when the survey ends."""

    __tablename__ = "survey_participant"

    survey_id: int = Field(foreign_key="survey.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=255)
    # Statements answered so far (a changed answer does not count twice).
    answered: int = 0
    reminded: bool = False
    thanked: bool = False


class SurveyComment(SQLModel, table=True):
    """A free-text answer; `voter` is the keyed hash (a second text replaces the first);
    `id` random."""

    __tablename__ = "survey_comment"
    __table_args__ = (
        UniqueConstraint("survey_id", "voter", name="uq_survey_comment_survey_id_voter"),
    )

    id: int | None = Field(default=None, sa_column=_random_id_column())
    survey_id: int = Field(foreign_key="survey.id", index=True)
    voter: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
