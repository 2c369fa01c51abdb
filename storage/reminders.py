"""Queries of the reminders: `!erinnere` reminders, snoozes, and the log of the occurrences
already handled. (The agreements the reminder policy looks at are queried in
storage.agreements, the scheduler's lease in storage.lease.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.models import (
    LogStatus,
    RefKind,
    Reminder,
    ReminderKind,
    ReminderLog,
    ReminderSnooze,
    ReminderStatus,
    Room,
)

# Reminders that may still be posted (again): `!erinnerungen` lists them.
LIVE_STATUSES = (ReminderStatus.ACTIVE, ReminderStatus.PAUSED)


# ---------------------------------------------------------------------------------------------
# Reminders set with !erinnere


def next_number(db: Session, room_id: str) -> int:
    current = db.exec(select(func.max(Reminder.number)).where(Reminder.room_id == room_id)).one()
    return int(current or 0) + 1


def create_reminder(
    db: Session,
    *,
    room_id: str,
    text: str,
    created_by: str,
    now: dt.datetime,
    source_event_id: str,
    due_at: dt.datetime | None = None,
    recurrence: str | None = None,
    mentions: str | None = None,
) -> Reminder:
    reminder = Reminder(
        room_id=room_id,
        number=next_number(db, room_id),
        text=text,
        mentions=mentions,
        due_at=due_at,
        recurrence=recurrence,
        status=ReminderStatus.ACTIVE,
        active_since=now,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        source_event_id=source_event_id,
    )
    db.add(reminder)
    db.flush()
    return reminder


def get_reminder(db: Session, room_id: str, number: int) -> Reminder | None:
    return db.exec(
        select(Reminder).where(Reminder.room_id == room_id, Reminder.number == number)
    ).first()


def reminder_by_id(db: Session, reminder_id: int) -> Reminder | None:
    return db.get(Reminder, reminder_id)


def room_reminders(
    db: Session, room_id: str, statuses: Sequence[str] = LIVE_STATUSES
) -> list[Reminder]:
    stmt = (
        select(Reminder)
        .where(Reminder.room_id == room_id, col(Reminder.status).in_(statuses))
        .order_by(col(Reminder.number))
    )
    return list(db.exec(stmt))


def active_reminders(db: Session, room_id: str | None = None) -> list[Reminder]:
    stmt = (
        select(Reminder)
        .join(Room, col(Room.room_id) == col(Reminder.room_id))
        .where(Reminder.status == ReminderStatus.ACTIVE, col(Room.left_at).is_(None))
    )
    if room_id is not None:
        stmt = stmt.where(Reminder.room_id == room_id)
    return list(db.exec(stmt))


def update_reminder(db: Session, reminder: Reminder, *, now: dt.datetime, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(reminder, name, value)
    reminder.updated_at = now
    db.add(reminder)


# ---------------------------------------------------------------------------------------------
# Snoozes


def set_snooze(
    db: Session,
    *,
    ref_kind: RefKind,
    ref_id: int,
    room_id: str,
    until: dt.datetime,
    set_by: str,
    now: dt.datetime,
) -> ReminderSnooze:
    row = db.get(ReminderSnooze, (ref_kind, ref_id))
    if row is None:
        row = ReminderSnooze(
            ref_kind=ref_kind,
            ref_id=ref_id,
            room_id=room_id,
            until=until,
            set_by=set_by,
            set_at=now,
        )
    else:
        row.until, row.set_by, row.set_at = until, set_by, now
    db.add(row)
    db.flush()
    return row


def snoozes(db: Session, ref_kind: RefKind, ids: Sequence[int]) -> dict[int, ReminderSnooze]:
    found: dict[int, ReminderSnooze] = {}
    for chunk in in_chunks(list(ids)):
        stmt = select(ReminderSnooze).where(
            ReminderSnooze.ref_kind == ref_kind, col(ReminderSnooze.ref_id).in_(chunk)
        )
        found.update({row.ref_id: row for row in db.exec(stmt)})
    return found


# ---------------------------------------------------------------------------------------------
# The log of handled occurrences


def handled_keys(
    db: Session,
    *,
    agreement_ids: Sequence[int] = (),
    reminder_ids: Sequence[int] = (),
    keys: Sequence[str] = (),
) -> set[str]:
    found: set[str] = set()
    for column, values in (
        (ReminderLog.agreement_id, agreement_ids),
        (ReminderLog.reminder_id, reminder_ids),
        (ReminderLog.key, keys),
    ):
        for chunk in in_chunks(list(values)):
            stmt = select(ReminderLog.key).where(col(column).in_(chunk))
            found.update(db.exec(stmt))
    return found


def record(
    db: Session,
    *,
    key: str,
    room_id: str,
    kind: ReminderKind,
    occurrence_at: dt.datetime,
    now: dt.datetime,
    status: LogStatus = LogStatus.SENT,
    late: bool = False,
    agreement_id: int | None = None,
    reminder_id: int | None = None,
    outbox_id: int | None = None,
) -> ReminderLog:
    """Mark the occurrence handled. The key is unique: a second attempt fails the transaction."""
    row = ReminderLog(
        key=key,
        room_id=room_id,
        kind=kind,
        agreement_id=agreement_id,
        reminder_id=reminder_id,
        occurrence_at=occurrence_at,
        handled_at=now,
        status=status,
        late=late,
        outbox_id=outbox_id,
    )
    db.add(row)
    return row


def log_entries(db: Session, *, room_id: str | None = None) -> list[ReminderLog]:
    stmt = select(ReminderLog).order_by(col(ReminderLog.id))
    if room_id is not None:
        stmt = stmt.where(ReminderLog.room_id == room_id)
    return list(db.exec(stmt))


# ---------------------------------------------------------------------------------------------
# Agreements as the reminder policy sees them


# ---------------------------------------------------------------------------------------------
# The lease: one process posts reminders


# ---------------------------------------------------------------------------------------------
# Room settings of all rooms at once (one query instead of one per room)


def active_snoozes(db: Session, ref_kind: RefKind, *, since: dt.datetime) -> list[ReminderSnooze]:
    stmt = select(ReminderSnooze).where(
        ReminderSnooze.ref_kind == ref_kind, col(ReminderSnooze.until) >= since
    )
    return list(db.exec(stmt))


# ---------------------------------------------------------------------------------------------
# Since when the bot posts reminders at all
