"""Queries of the exports: agreements, their owners and history, streamed in batches.

Each query is ordered by room and agreement number, so that an export can walk them side
by side (owners beside their agreement, a room's history after its agreements) while only
one batch is in memory, however many rows there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, func
from sqlalchemy import select as select_columns  # more columns than sqlmodel's select types
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.figures.agreements import active_between
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    Meeting,
    Poll,
    PollKind,
    Room,
)

BATCH = 1000


@dataclass(frozen=True)
class Window:
    """Which rooms (None: all) and which moments [start, end) (None: unbounded)."""

    room_ids: tuple[str, ...] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def holds(self, room: Any, moment: Any) -> list[ColumnElement[bool]]:
        """Conditions: the row's room is one of the window's, its moment in [start, end)."""
        where: list[ColumnElement[bool]] = []
        if self.room_ids is not None:
            where.append(col(room).in_(self.room_ids))
        if self.start is not None:
            where.append(col(moment) >= self.start)
        if self.end is not None:
            where.append(col(moment) < self.end)
        return where


def rooms(db: Session, window: Window) -> list[Room]:
    stmt = select(Room).order_by(col(Room.room_id))
    if window.room_ids is not None:
        stmt = stmt.where(col(Room.room_id).in_(window.room_ids))
    return list(db.exec(stmt))


def find_rooms(db: Session, ref: str) -> list[Room]:
    """Rooms by ID, else by name (exactly, else ignoring case)."""
    found = db.get(Room, ref)
    if found is not None:
        return [found]
    exact = list(db.exec(select(Room).where(Room.name == ref).order_by(col(Room.room_id))))
    if exact:
        return exact
    folded = func.lower(col(Room.name)) == ref.lower()
    return list(db.exec(select(Room).where(folded).order_by(col(Room.room_id))))


def _agreement_window(window: Window) -> list[ColumnElement[bool]]:
    """The agreements active in the window (the read model's cohort)."""
    where: list[ColumnElement[bool]] = []
    if window.room_ids is not None:
        where.append(col(Agreement.room_id).in_(window.room_ids))
    where.extend(active_between(window.start, window.end))
    return where


def agreements(db: Session, window: Window) -> Iterator[tuple[Agreement, str | None]]:
    """Agreements in the window with their room's name, by room and number."""
    stmt = (
        select(Agreement, Room.name)
        .join(Room, col(Room.room_id) == col(Agreement.room_id))
        .where(and_(True, *_agreement_window(window)))
        .order_by(col(Agreement.room_id), col(Agreement.number))
        .execution_options(yield_per=BATCH)
    )
    yield from db.exec(stmt)


def owners(db: Session, window: Window) -> Iterator[tuple[int, str]]:
    """(agreement ID, owner) of the agreements of `agreements(window)`, in its order."""
    stmt = (
        select(AgreementOwner.agreement_id, AgreementOwner.user_id)
        .join(Agreement, col(Agreement.id) == col(AgreementOwner.agreement_id))
        .where(and_(True, *_agreement_window(window)))
        .order_by(col(Agreement.room_id), col(Agreement.number), col(AgreementOwner.position))
        .execution_options(yield_per=BATCH)
    )
    yield from db.exec(stmt)


class HistoryRow(NamedTuple):
    # A tuple, not a dataclass: made for each of possibly very many rows.
    room_id: str
    room_name: str | None
    number: int
    at: dt.datetime
    actor: str
    action: str
    old_value: str | None
    new_value: str | None
    note: str | None


def history(db: Session, window: Window) -> Iterator[HistoryRow]:
    """History entries made in the window, with their agreement's room and number, by
    room, number and time. Plain columns, not ORM objects: there may be very many."""
    where = window.holds(Agreement.room_id, AgreementHistory.at)
    stmt = (
        select_columns(
            col(Agreement.room_id),
            col(Room.name),
            col(Agreement.number),
            col(AgreementHistory.at),
            col(AgreementHistory.actor),
            col(AgreementHistory.action),
            col(AgreementHistory.old_value),
            col(AgreementHistory.new_value),
            col(AgreementHistory.note),
        )
        .join(Agreement, col(Agreement.id) == col(AgreementHistory.agreement_id))
        .join(Room, col(Room.room_id) == col(Agreement.room_id))
        .where(and_(True, *where))
        .order_by(
            col(Agreement.room_id),
            col(Agreement.number),
            col(AgreementHistory.at),
            col(AgreementHistory.id),
        )
        .execution_options(yield_per=BATCH)
    )
    yield from map(HistoryRow._make, db.connection().execute(stmt))


def room_ids_of(found: Sequence[Room]) -> tuple[str, ...]:
    return tuple(r.room_id for r in found)


def meetings(db: Session, window: Window) -> Iterator[tuple[Meeting, str | None]]:
    """Meetings started in the window, with their room's name, by room and number."""
    stmt = (
        select(Meeting, Room.name)
        .join(Room, col(Room.room_id) == col(Meeting.room_id))
        .where(and_(True, *window.holds(Meeting.room_id, Meeting.started_at)))
    )
    yield from db.exec(stmt.order_by(col(Meeting.room_id), col(Meeting.number)))


def polls(db: Session, window: Window) -> Iterator[tuple[Poll, str | None]]:
    """Pulses and polls started in the window (not the survey's statements), with their
    room's name, by room and number."""
    stmt = (
        select(Poll, Room.name)
        .join(Room, col(Room.room_id) == col(Poll.room_id))
        .where(
            col(Poll.kind).in_([PollKind.PULSE, PollKind.GENERAL]),
            *window.holds(Poll.room_id, Poll.created_at),
        )
    )
    yield from db.exec(stmt.order_by(col(Poll.room_id), col(Poll.number)))
