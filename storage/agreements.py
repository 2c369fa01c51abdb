"""Agreements (Verabredungen), their owners and history; roles set with `!rolle`.

Commands call these functions; nothing here knows about chat. Every change writes one
history row (who, what, when, old and new value), and nothing is ever deleted: cancelled
is a status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, func
from sqlalchemy import insert as sql_insert
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.figures.agreements import overdue_condition
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    AgreementStatus,
    HistoryAction,
    Room,
)

STATUSES = tuple(AgreementStatus)

# Numbers are PostgreSQL INTEGER: anything larger is no agreement (and no database error).
MAX_NUMBER = 2**31 - 1
_NUMBER_ATTEMPTS = 8


# --------------------------------------------------------------------------------- values


def due_value(due_date: dt.date | None, due_time: dt.time | None) -> str | None:
    """A due date as stored in the history: "2026-12-04" or "2026-12-04 10:00"."""
    if due_date is None:
        return None
    return due_date.isoformat() + (f" {due_time:%H:%M}" if due_time is not None else "")


def parse_due_value(value: str | None) -> tuple[dt.date | None, dt.time | None]:
    if not value:
        return None, None
    day, _, clock = value.partition(" ")
    return dt.date.fromisoformat(day), (dt.time.fromisoformat(clock) if clock else None)


def owners_value(user_ids: Sequence[str]) -> str:
    """Owners as stored in the history: user IDs separated by spaces (IDs have none)."""
    return " ".join(user_ids)


def parse_owners_value(value: str | None) -> list[str]:
    return value.split() if value else []


# -------------------------------------------------------------------------------- reading


def by_id(db: Session, agreement_id: int) -> Agreement | None:
    return db.get(Agreement, agreement_id)


def by_number(db: Session, room_id: str, number: int) -> Agreement | None:
    if not 1 <= number <= MAX_NUMBER:
        return None
    stmt = select(Agreement).where(Agreement.room_id == room_id, Agreement.number == number)
    return db.exec(stmt).first()


def by_source_event(db: Session, event_id: str) -> Agreement | None:
    return db.exec(select(Agreement).where(Agreement.source_event_id == event_id)).first()


def owners(db: Session, agreement_id: int) -> list[str]:
    stmt = (
        select(AgreementOwner)
        .where(AgreementOwner.agreement_id == agreement_id)
        .order_by(col(AgreementOwner.position), col(AgreementOwner.user_id))
    )
    return [row.user_id for row in db.exec(stmt)]


def owners_of(db: Session, agreement_ids: Sequence[int]) -> dict[int, list[str]]:
    """Owners of several agreements, in the order they were named, in few queries."""
    ids = list(agreement_ids)
    found: dict[int, list[str]] = {a: [] for a in ids}
    for chunk in in_chunks(ids):
        stmt = (
            select(AgreementOwner)
            .where(col(AgreementOwner.agreement_id).in_(chunk))
            .order_by(
                col(AgreementOwner.agreement_id),
                col(AgreementOwner.position),
                col(AgreementOwner.user_id),
            )
        )
        for row in db.exec(stmt):
            found[row.agreement_id].append(row.user_id)
    return found


def history(db: Session, agreement_id: int) -> list[AgreementHistory]:
    stmt = (
        select(AgreementHistory)
        .where(AgreementHistory.agreement_id == agreement_id)
        .order_by(col(AgreementHistory.at), col(AgreementHistory.id))
    )
    return list(db.exec(stmt))


@dataclass(frozen=True)
class Page:
    items: list[Agreement]
    total: int


def query(
    db: Session,
    room_id: str,
    *,
    statuses: Sequence[str] = (AgreementStatus.OPEN,),
    owner: str | None = None,
    overdue_at: dt.datetime | None = None,
    limit: int = 15,
    offset: int = 0,
) -> Page:
    """Agreements of a room sorted by due date (those without one last), then number.

    `overdue_at` (room time) keeps only those overdue at that moment; `total` counts all
    matches, so the caller can say how many more there are.
    """
    conditions: list[ColumnElement[bool]] = [
        col(Agreement.room_id) == room_id,
        col(Agreement.status).in_(list(statuses)),
    ]
    if owner is not None:
        owned = select(AgreementOwner.agreement_id).where(AgreementOwner.user_id == owner)
        conditions.append(col(Agreement.id).in_(owned))
    if overdue_at is not None:
        conditions.append(overdue_condition(overdue_at))
    # The count of all matches rides along on every row of the page (the window is
    # counted before LIMIT): one query, not two.
    stmt = (
        select(Agreement, func.count().over())
        .where(*conditions)
        .order_by(
            col(Agreement.due_date).is_(None),
            col(Agreement.due_date),
            col(Agreement.due_time).is_(None),
            col(Agreement.due_time),
            col(Agreement.number),
        )
        .limit(limit)
        .offset(offset)
    )
    rows = db.exec(stmt).all()
    if rows:
        return Page([a for a, _ in rows], int(rows[0][1]))
    if offset == 0:
        return Page([], 0)
    # A page past the end has no row to carry the count (asked for rarely).
    total = db.exec(select(func.count()).select_from(Agreement).where(*conditions)).one()
    return Page([], int(total))


# -------------------------------------------------------------------------------- writing


def _next_number(room_id: str) -> ScalarSelect[int]:
    """max+1 of the room, computed by the INSERT that takes it: no statement of its own."""
    stmt = select(func.coalesce(func.max(Agreement.number), 0) + 1)
    return stmt.where(Agreement.room_id == room_id).scalar_subquery()


def _insert_skipping_conflicts(db: Session, values: dict[str, Any]) -> Insert:
    """An INSERT of an agreement that skips a row a unique constraint refuses (this event's
    agreement, or a number taken meanwhile) instead of failing: no savepoint needed."""
    if db.get_bind().dialect.name == "postgresql":
        # Lazy: SQLAlchemy's PostgreSQL dialect costs a bot on SQLite 2 MB for nothing.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(Agreement).values(values).on_conflict_do_nothing()
    return sqlite.insert(Agreement).values(values).on_conflict_do_nothing()


def record(
    db: Session,
    *,
    room_id: str,
    text: str,
    owners: Sequence[str],
    due_date: dt.date | None,
    due_time: dt.time | None,
    actor: str,
    at: dt.datetime,
    source_event_id: str,
) -> tuple[Agreement, bool]:
    """Record a new agreement as number max+1 of its room; (agreement, created).

    Two agreements recorded at the same moment in one room cannot get the same number:
    the unique constraint refuses the second insert, which then takes the next number.
    An event that already recorded one returns that one (created False).
    """
    values: dict[str, Any] = {
        "room_id": room_id,
        "text": text,
        "status": AgreementStatus.OPEN,
        "due_date": due_date,
        "due_time": due_time,
        "created_by": actor,
        "created_at": at,
        "updated_at": at,
        "closed_at": None,
        "source_event_id": source_event_id,
    }
    for _attempt in range(_NUMBER_ATTEMPTS):
        # The number is taken in the INSERT itself; a refused row returns nothing.
        values["number"] = _next_number(room_id)
        stmt = _insert_skipping_conflicts(db, values).returning(Agreement)
        agreement = db.execute(stmt).scalar_one_or_none()
        if agreement is None:
            existing = by_source_event(db, source_event_id)
            if existing is None:
                continue  # someone else took this number meanwhile
            if existing.room_id != room_id:  # event IDs are unique across rooms
                raise ValueError(f"event {source_event_id} already recorded in {existing.room_id}")
            return existing, False
        assert agreement.id is not None
        if owners:
            db.execute(
                sql_insert(AgreementOwner).values(
                    [
                        {"agreement_id": agreement.id, "user_id": user_id, "position": position}
                        for position, user_id in enumerate(owners)
                    ]
                )
            )
        _log(
            db,
            agreement,
            actor,
            at,
            HistoryAction.CREATED,
            None,
            text,
            source_event_id=source_event_id,
        )
        db.flush()
        return agreement, True
    raise RuntimeError(f"no free agreement number in {room_id} after {_NUMBER_ATTEMPTS} tries")


def _log(
    db: Session,
    a: Agreement,
    actor: str,
    at: dt.datetime,
    action: HistoryAction,
    old: str | None,
    new: str | None,
    *,
    note: str | None = None,
    source_event_id: str | None = None,
) -> AgreementHistory:
    assert a.id is not None
    row = AgreementHistory(
        agreement_id=a.id,
        at=at,
        actor=actor,
        action=action,
        old_value=old,
        new_value=new,
        note=note,
        source_event_id=source_event_id,
    )
    db.add(row)
    return row


def _touch(db: Session, a: Agreement, at: dt.datetime) -> None:
    a.updated_at = at
    db.add(a)


# The history action of a change to each status.
_STATUS_ACTIONS = {
    AgreementStatus.OPEN: HistoryAction.REOPENED,
    AgreementStatus.DONE: HistoryAction.DONE,
    AgreementStatus.CANCELLED: HistoryAction.CANCELLED,
}


def set_status(
    db: Session,
    a: Agreement,
    status: AgreementStatus,
    *,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
    source_event_id: str | None = None,
) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    action = _STATUS_ACTIONS[AgreementStatus(status)]
    old = a.status
    a.status = status
    a.closed_at = None if status == AgreementStatus.OPEN else at
    _touch(db, a, at)
    _log(db, a, actor, at, action, old, status, note=note, source_event_id=source_event_id)
    db.flush()


def set_owners(
    db: Session,
    a: Agreement,
    user_ids: Sequence[str],
    *,
    actor: str,
    at: dt.datetime,
    source_event_id: str | None = None,
) -> None:
    assert a.id is not None
    old = owners(db, a.id)
    for row in db.exec(select(AgreementOwner).where(AgreementOwner.agreement_id == a.id)):
        db.delete(row)  # the owner list is replaced; the old one stays in the history
    db.flush()
    for position, user_id in enumerate(user_ids):
        db.add(AgreementOwner(agreement_id=a.id, user_id=user_id, position=position))
    _touch(db, a, at)
    _log(
        db,
        a,
        actor,
        at,
        HistoryAction.ASSIGNED,
        owners_value(old),
        owners_value(user_ids),
        source_event_id=source_event_id,
    )
    db.flush()


def set_due(
    db: Session,
    a: Agreement,
    due_date: dt.date | None,
    due_time: dt.time | None,
    *,
    actor: str,
    at: dt.datetime,
    source_event_id: str | None = None,
) -> None:
    old = due_value(a.due_date, a.due_time)
    a.due_date, a.due_time = due_date, due_time
    _touch(db, a, at)
    new = due_value(due_date, due_time)
    _log(db, a, actor, at, HistoryAction.DUE_CHANGED, old, new, source_event_id=source_event_id)
    db.flush()


def set_text(
    db: Session,
    a: Agreement,
    text: str,
    *,
    actor: str,
    at: dt.datetime,
    source_event_id: str | None = None,
) -> None:
    old = a.text
    a.text = text
    _touch(db, a, at)
    _log(db, a, actor, at, HistoryAction.EDITED, old, text, source_event_id=source_event_id)
    db.flush()


def add_note(
    db: Session,
    a: Agreement,
    text: str,
    *,
    actor: str,
    at: dt.datetime,
    source_event_id: str | None = None,
) -> None:
    _touch(db, a, at)
    _log(
        db,
        a,
        actor,
        at,
        HistoryAction.NOTE,
        None,
        None,
        note=text,
        source_event_id=source_event_id,
    )
    db.flush()


def set_reason(
    db: Session,
    a: Agreement,
    reason: str,
    *,
    actor: str,
    at: dt.datetime,
    source_event_id: str | None = None,
) -> bool:
    """The reason for a delay (`!grund N …`): the latest on the agreement, every one in its
    history (note: the reason, old value: the one before). False when nothing changed: the
    same event again (a replay), or the reason it has already."""
    assert a.id is not None
    if source_event_id is not None:
        seen = select(AgreementHistory.id).where(
            AgreementHistory.agreement_id == a.id,
            AgreementHistory.action == HistoryAction.REASON,
            AgreementHistory.source_event_id == source_event_id,
        )
        if db.exec(seen).first() is not None:
            return False
    if a.delay_reason == reason:
        return False
    old = a.delay_reason
    a.delay_reason, a.delay_reason_at = reason, at
    _touch(db, a, at)
    _log(
        db,
        a,
        actor,
        at,
        HistoryAction.REASON,
        old,
        None,
        note=reason,
        source_event_id=source_event_id,
    )
    db.flush()
    return True


# ------------------------------------------------------------------------------ room roles


# History actions after which earlier reminder occurrences of an agreement are not owed.
RESTART_ACTIONS = (HistoryAction.DUE_CHANGED, HistoryAction.REOPENED)


def open_agreements(
    db: Session,
    *,
    due_from: dt.date | None = None,
    due_to: dt.date | None = None,
    room_id: str | None = None,
    with_due_date: bool = True,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Agreement]:
    """Open agreements of rooms the bot is in, optionally with a due date in a window;
    in pages by ID (`limit` of them, after `after_id`) when the caller bounds its memory."""
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
    if after_id is not None:
        stmt = stmt.where(col(Agreement.id) > after_id)
    return list(db.exec(stmt.order_by(col(Agreement.id)).limit(limit)))


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
    for chunk in in_chunks(list(agreement_ids)):
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


def open_agreements_by_ids(db: Session, ids: Sequence[int]) -> list[Agreement]:
    found: list[Agreement] = []
    for chunk in in_chunks(list(ids)):
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
