"""The rules of procedure at work: each committee's parameters and voting members, its
decisions (Beschlüsse, by circulation or in a meeting), the agenda requests for its next
meeting and the objections to a meeting's minutes."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class ProcedureRules(SQLModel, table=True):
    """A room's rules parameters as the chair set them (`!geschäftsordnung setze …`); the
    config's per committee apply where no row is. `params` is JSON (commands.procedure)."""

    __tablename__ = "procedure_rules"

    room_id: str = Field(foreign_key="room.room_id", primary_key=True, max_length=255)
    params: str = Field(sa_column=Column(Text, nullable=False))
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class VotingMember(SQLModel, table=True):
    """A voting member named by the rules (`!geschäftsordnung stimmberechtigt …`); without
    any row, every member of the room votes."""

    __tablename__ = "voting_member"

    room_id: str = Field(foreign_key="room.room_id", primary_key=True, max_length=255)
    user_id: str = Field(primary_key=True, max_length=255)
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class DecisionKind(StrEnum):
    CIRCULATION = "circulation"  # Umlaufverfahren
    MEETING = "meeting"  # taken in a meeting (`!beschluss`)


class DecisionOutcome(StrEnum):
    RUNNING = "running"  # a circulation not ended yet
    PASSED = "passed"
    REJECTED = "rejected"  # no majority
    OBJECTION = "objection"  # a member objected to the circulation itself
    TOO_FEW = "too_few"  # too few took part / no quorum


class Decision(SQLModel, table=True):
    """A motion decided (or being decided) by the committee. A passed one is a Beschluss
    with its number per room and year ("Beschluss 2026/3"); the others keep no number."""

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("room_id", "year", "number", name="uq_decision_room_id_year_number"),
        UniqueConstraint("source_event_id", name="uq_decision_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    # A DecisionKind, a DecisionOutcome.
    kind: str = Field(max_length=16)
    outcome: str = Field(max_length=16, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # Set once passed: the year it was decided in (room time) and its number in that year.
    year: int | None = None
    number: int | None = None
    # The circulation's poll; the meeting a decision was taken in.
    poll_id: int | None = Field(default=None, foreign_key="poll.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    deadline: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    yes: int = 0
    no: int = 0
    abstain: int = 0
    # Voting members then, and how many took part (circulation) or were present (meeting).
    eligible: int = 0
    participated: int = 0
    # The rule applied, in words, as announced (the room's language then).
    rule: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    decided_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    source_event_id: str = Field(max_length=255)


class AgendaKind(StrEnum):
    REQUESTED = "requested"  # `!top` by a member
    CIRCULATION = "circulation"  # a circulation that failed
    MINUTES = "minutes"  # minutes objected to: their approval


class AgendaRequest(SQLModel, table=True):
    """An item for the next meeting's draft agenda; `meeting_date` the meeting it is meant
    for (None: the next one); `done_at` once a meeting took it up."""

    __tablename__ = "agenda_request"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_agenda_request_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    kind: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    proposed_by: str = Field(max_length=255)
    proposed_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    meeting_date: dt.date | None = None
    # The decision (failed circulation) or meeting (minutes) it comes from.
    ref_id: int | None = None
    done_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    source_event_id: str = Field(max_length=255)


class MinutesObjection(SQLModel, table=True):
    """An objection to a meeting's draft minutes (`!einspruch`)."""

    __tablename__ = "minutes_objection"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_minutes_objection_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    user_id: str = Field(max_length=255)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source_event_id: str = Field(max_length=255)
