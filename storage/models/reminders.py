"""Tables of the reminders: what the bot was asked to remind, what it already sent.

Nothing here is a precomputed schedule. Agreement reminders are derived at wake time from
the agreement's current state (status, due date, owners) and the room's policy; what is
stored is only what cannot be derived: one-off and recurring reminders set with
`!erinnere`, snoozes (`!später`), the log of occurrences already handled (unique per
occurrence key, so nothing is ever sent twice) and the lease of the one scheduling process.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, col

from storage.models.agreements import Agreement
from storage.types import UTCDateTime


class ReminderStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"  # a one-off that was posted
    CANCELLED = "cancelled"


class LogStatus(StrEnum):
    SENT = "sent"
    # Superseded by a later occurrence, a snooze, or an empty digest.
    SKIPPED = "skipped"


# The reminder scheduler looks up open agreements by due date at every wake-up.
Index("ix_agreement_status_due_date", col(Agreement.status), col(Agreement.due_date))


class ReminderKind(StrEnum):
    """What a handled occurrence in `reminder_log` was."""

    BEFORE = "before"  # an agreement's reminder before its due date
    DUE = "due"  # on the due date
    OVERDUE = "overdue"  # a follow-up after it
    SNOOZE = "snooze"  # the moment a `!später` put reminders off to
    DIGEST = "digest"  # the room's weekly overview
    ONCE = "once"  # a one-off `!erinnere`
    RECURRING = "recurring"  # one occurrence of a recurring `!erinnere`


class Reminder(SQLModel, table=True):
    """A reminder set with `!erinnere`: once at `due_at`, or recurring by `recurrence`."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("room_id", "number", name="uq_reminder_room_id_number"),
        UniqueConstraint("source_event_id", name="uq_reminder_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    # Counts per room from 1; shown as "Nr. 3" and used by `!pause 3`, `!erinnere löschen 3`.
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    # JSON list of user IDs mentioned when the reminder was set; they are mentioned again.
    mentions: str | None = Field(default=None, sa_column=Column(Text))
    # once: the moment to post. recurring: None.
    due_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # recurring: JSON {"freq", "time", "weekdays", "nth"}; wall-clock time of the room.
    recurrence: str | None = Field(default=None, sa_column=Column(Text))
    # A ReminderStatus.
    status: str = Field(default=ReminderStatus.ACTIVE, max_length=16, index=True)
    # Occurrences before this moment are never posted (creation, or the last `!weiter`).
    active_since: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The nominal moment of the latest occurrence handled (posted or passed over).
    last_fired_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source_event_id: str = Field(max_length=255)


class ReminderLog(SQLModel, table=True):
    """One handled occurrence: posted (with its outbox message) or skipped. Never twice."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("key", name="uq_reminder_log_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # e.g. "agreement:12:due:2026-04-06", "reminder:3:2026-04-06T07:00:00+00:00", "digest:…"
    key: str = Field(max_length=255)
    room_id: str = Field(max_length=255, index=True)
    kind: str = Field(max_length=16)  # a ReminderKind
    agreement_id: int | None = Field(default=None, index=True)
    reminder_id: int | None = Field(default=None, index=True)
    occurrence_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    handled_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # A LogStatus.
    status: str = Field(default=LogStatus.SENT, max_length=16)
    late: bool = False
    outbox_id: int | None = None


class ReminderSnooze(SQLModel, table=True):
    """`!später`: the object's reminders before `until` are put off to `until`."""

    __tablename__ = "reminder_snooze"

    # "agreement" or "reminder", and its id.
    ref_kind: str = Field(primary_key=True, max_length=16)
    ref_id: int = Field(primary_key=True)
    room_id: str = Field(max_length=255, index=True)
    until: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SchedulerLease(SQLModel, table=True):
    """Which bot process may post reminders; a second process on the database refuses to start."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=255)
    acquired_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
