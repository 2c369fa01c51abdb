"""Queries of the reminders: `!erinnere` reminders, snoozes, the log of handled occurrences,
the agreements the reminder policy looks at, and the scheduler's lease."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import events
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementStatus,
    HistoryAction,
    LogStatus,
    Reminder,
    ReminderLog,
    ReminderSnooze,
    ReminderStatus,
    Room,
    RoomSetting,
    SchedulerLease,
)

T = TypeVar("T")
_CHUNK = 500

# History actions after which earlier reminder occurrences of an agreement are not owed.
RESTART_ACTIONS = (HistoryAction.DUE_CHANGED, HistoryAction.REOPENED)
# Reminders that may still be posted (again): `!erinnerungen` lists them.
LIVE_STATUSES = (ReminderStatus.ACTIVE, ReminderStatus.PAUSED)


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


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
    ref_kind: str,
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


def snoozes(db: Session, ref_kind: str, ids: Sequence[int]) -> dict[int, ReminderSnooze]:
    found: dict[int, ReminderSnooze] = {}
    for chunk in _chunks(list(ids)):
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
        for chunk in _chunks(list(values)):
            stmt = select(ReminderLog.key).where(col(column).in_(chunk))
            found.update(db.exec(stmt))
    return found


def record(
    db: Session,
    *,
    key: str,
    room_id: str,
    kind: str,
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


def open_agreements(
    db: Session,
    *,
    due_from: dt.date | None = None,
    due_to: dt.date | None = None,
    room_id: str | None = None,
    with_due_date: bool = True,
) -> list[Agreement]:
    """Open agreements of rooms the bot is in, optionally with a due date in a window."""
    stmt = (
        select(Agreement)
        .join(Room, col(Room.room_id) == col(Agreement.room_id))
        .where(Agreement.status == AgreementStatus.OPEN, col(Room.left_at).is_(None))
    )
    if with_due_date:
        stmt = stmt.where(col(Agreement.due_date).is_not(None))
    if due_from is not None:
        stmt = stmt.where(col(Agreement.due_date) >= due_from)
    if due_to is not None:
        stmt = stmt.where(col(Agreement.due_date) <= due_to)
    if room_id is not None:
        stmt = stmt.where(Agreement.room_id == room_id)
    return list(db.exec(stmt.order_by(col(Agreement.id))))


def closed_agreements_since(db: Session, room_id: str, since: dt.datetime) -> list[Agreement]:
    stmt = (
        select(Agreement)
        .where(
            Agreement.room_id == room_id,
            Agreement.status == AgreementStatus.DONE,
            col(Agreement.closed_at) >= since,
        )
        .order_by(col(Agreement.number))
    )
    return list(db.exec(stmt))


def restarted_at(db: Session, agreement_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When each agreement was last re-dated or reopened (absent: never)."""
    found: dict[int, dt.datetime] = {}
    for chunk in _chunks(list(agreement_ids)):
        stmt = (
            select(AgreementHistory.agreement_id, func.max(AgreementHistory.at))
            .where(
                col(AgreementHistory.agreement_id).in_(chunk),
                col(AgreementHistory.action).in_(RESTART_ACTIONS),
            )
            .group_by(col(AgreementHistory.agreement_id))
        )
        for agreement_id, at in db.exec(stmt):
            if at is not None:
                # func.max bypasses the column type on SQLite: re-attach UTC there.
                if isinstance(at, str):
                    at = dt.datetime.fromisoformat(at)
                found[agreement_id] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return found


def active_room_ids(db: Session) -> list[tuple[str, dt.datetime]]:
    rows = db.exec(select(Room).where(col(Room.left_at).is_(None)).order_by(col(Room.room_id)))
    return [(r.room_id, r.joined_at) for r in rows]


# ---------------------------------------------------------------------------------------------
# The lease: one process posts reminders


def lease(db: Session, name: str) -> SchedulerLease | None:
    return db.get(SchedulerLease, name)


def take_lease(
    db: Session, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta, force: bool = False
) -> SchedulerLease | None:
    """Take or renew the lease; returns the other holder's row when it is held and not expired."""
    row = db.get(SchedulerLease, name, with_for_update=True)
    if row is None:
        db.add(SchedulerLease(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        db.flush()
        return None
    if row.holder != holder and row.expires_at > now and not force:
        return row
    if row.holder != holder:
        row.holder, row.acquired_at = holder, now
    row.expires_at = now + ttl
    db.add(row)
    return None


def holds_lease(db: Session, name: str, holder: str, *, now: dt.datetime) -> bool:
    row = db.get(SchedulerLease, name)
    return row is not None and row.holder == holder and row.expires_at > now


def release_lease(db: Session, name: str, holder: str) -> None:
    row = db.get(SchedulerLease, name)
    if row is not None and row.holder == holder:
        db.delete(row)


# ---------------------------------------------------------------------------------------------
# Room settings of all rooms at once (one query instead of one per room)


def all_room_settings(db: Session) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for row in db.exec(select(RoomSetting)):
        found.setdefault(row.room_id, {})[row.key] = row.value
    return found


def open_agreements_by_ids(db: Session, ids: Sequence[int]) -> list[Agreement]:
    found: list[Agreement] = []
    for chunk in _chunks(list(ids)):
        stmt = (
            select(Agreement)
            .join(Room, col(Room.room_id) == col(Agreement.room_id))
            .where(
                col(Agreement.id).in_(chunk),
                Agreement.status == AgreementStatus.OPEN,
                col(Room.left_at).is_(None),
            )
        )
        found.extend(db.exec(stmt))
    return found


def active_snoozes(db: Session, ref_kind: str, *, since: dt.datetime) -> list[ReminderSnooze]:
    stmt = select(ReminderSnooze).where(
        ReminderSnooze.ref_kind == ref_kind, col(ReminderSnooze.until) >= since
    )
    return list(db.exec(stmt))


# ---------------------------------------------------------------------------------------------
# Since when the bot posts reminders at all


EPOCH_KEY = "reminders.since"


def epoch(db: Session) -> dt.datetime | None:
    """When reminders were first switched on for this database (first scheduler start):
    occurrences before it are never owed, so upgrading a bot with existing agreements
    does not post a flood of late reminders."""
    value = events.get_state(db, EPOCH_KEY)
    return dt.datetime.fromisoformat(value) if value else None


def ensure_epoch(db: Session, now: dt.datetime) -> dt.datetime:
    found = epoch(db)
    if found is None:
        found = now.astimezone(dt.UTC)
        events.set_state(db, EPOCH_KEY, found.isoformat())
    return found
