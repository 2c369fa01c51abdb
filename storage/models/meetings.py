"""Meetings (Sitzungen) of a room, who took part, the room's meeting plan and the
follow-up agendas already posted.

A meeting's minutes are stored as the facts they were made from (JSON: attendees,
agreements, …), not as text: they are shown again in the room's language of the moment
and exported as data.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Meeting(SQLModel, table=True):
    """One meeting, from `!sitzung start` to `!sitzung ende`; numbers count per room from 1."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("room_id", "number", name="uq_meeting_room_id_number"),
        UniqueConstraint("source_event_id", name="uq_meeting_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    number: int
    title: str | None = Field(default=None, sa_column=Column(Text))
    started_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # None while the meeting runs.
    ended_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    started_by: str = Field(max_length=255)
    ended_by: str | None = Field(default=None, max_length=255)
    # The `!sitzung start` event: a replayed event cannot start a second meeting.
    source_event_id: str = Field(max_length=255)
    # The minutes' facts as JSON (commands.meetings.minutes), written at the end.
    minutes: str | None = Field(default=None, sa_column=Column(Text))
    # The draft minutes were approved then: nobody objected within the rules' period,
    # or a later meeting approved them.
    minutes_approved_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AttendanceStatus(StrEnum):
    PRESENT = "present"  # `!anwesend`, or a reaction to the roll call
    EXCUSED = "excused"  # `!entschuldigt`


class MeetingAttendee(SQLModel, table=True):
    """Someone who wrote or reacted in the room while the meeting ran."""

    __tablename__ = "meeting_attendee"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=255)
    # The name the room showed then: a member who left is still named in the minutes.
    display_name: str | None = Field(default=None, max_length=255)
    first_seen_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # An AttendanceStatus once the member (or the chair for them) answered the roll call;
    # None: only seen writing or reacting.
    status: str | None = Field(default=None, max_length=16)


class MeetingPlan(SQLModel, table=True):
    """A room's next meeting: one date (`next_date`, with `next_time` when named) or a
    series (`recurrence`, JSON as a reminder's, in the room's wall-clock time)."""

    __tablename__ = "meeting_plan"

    room_id: str = Field(foreign_key="room.room_id", primary_key=True, max_length=255)
    next_date: dt.date | None = None
    next_time: dt.time | None = None
    recurrence: str | None = Field(default=None, sa_column=Column(Text))
    set_by: str = Field(max_length=255)
    # Agendas that fell due before the plan was set are not owed.
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source_event_id: str = Field(max_length=255)


class MeetingAgenda(SQLModel, table=True):
    """The follow-up agenda of the room's meeting on `meeting_date` was posted: never twice."""

    __tablename__ = "meeting_agenda"
    __table_args__ = (
        UniqueConstraint("room_id", "meeting_date", name="uq_meeting_agenda_room_id_meeting_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(max_length=255, index=True)
    meeting_date: dt.date
    posted_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The outbox key of the posted message.
    key: str = Field(max_length=255)
