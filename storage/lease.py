"""The lease of the one process that posts reminders, and since when reminders are owed."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from storage import events
from storage.models import SchedulerLease


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
