"""The figures of the committees' agreements per room and period: what the overview, the
leadership report and the annual evaluation count.

For a period (local dates, end exclusive) and each room:

- recorded: agreements created in the period;
- done: agreements marked done in the period (by their latest closing);
- done_on_time: of those, the ones done on or before their due date (or without one);
- due: agreements (not cancelled) whose due date fell in the period and has passed;
- overdue: of those, the ones not done by their due date (still open, or done later);
- median_days_to_done: median days from recording to done, of those done in the period.

The completion rate is (due − overdue) / due: of what fell due, how much was done in time.
Dates are read in one time zone (the configured one), so that rooms compare fairly.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.models import Agreement, AgreementStatus, Room


@dataclass(frozen=True)
class Period:
    """Local dates from `start` (None: since the first agreement) to `end`, exclusive."""

    start: dt.date | None
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and day < self.end


@dataclass(frozen=True)
class Figures:
    recorded: int = 0
    done: int = 0
    done_on_time: int = 0
    due: int = 0
    overdue: int = 0
    median_days_to_done: float | None = None

    @property
    def completion_rate(self) -> float | None:
        """Share of the agreements due so far that were done in time (None: none due)."""
        return None if self.due == 0 else (self.due - self.overdue) / self.due

    def __add__(self, other: Figures) -> Figures:
        """Totals; the median of a sum is unknown and left out."""
        return Figures(
            recorded=self.recorded + other.recorded,
            done=self.done + other.done,
            done_on_time=self.done_on_time + other.done_on_time,
            due=self.due + other.due,
            overdue=self.overdue + other.overdue,
        )


def _start_of(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


@dataclass
class _Tally:
    recorded: int = 0
    done: int = 0
    done_on_time: int = 0
    due: int = 0
    overdue: int = 0

    def __post_init__(self) -> None:
        self.days_to_done: list[float] = []

    def figures(self) -> Figures:
        median = round(statistics.median(self.days_to_done), 1) if self.days_to_done else None
        return Figures(self.recorded, self.done, self.done_on_time, self.due, self.overdue, median)


def figures(
    db: Session,
    period: Period,
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    room_ids: Sequence[str] | None = None,
) -> dict[str, Figures]:
    """The figures of each room (every room the bot is in, or the ones given)."""
    if room_ids is None:
        stmt = select(Room.room_id).where(col(Room.left_at).is_(None))
        room_ids = sorted(db.exec(stmt))
    today = now.astimezone(zone).date()
    # Due dates count once they have passed: one due today is not late yet.
    due_until = min(period.end, today)
    end_at = _start_of(period.end, zone)
    start_at = _start_of(period.start, zone) if period.start is not None else None

    def in_period(column: Any) -> ColumnElement[bool]:
        upper: ColumnElement[bool] = column < end_at
        return upper if start_at is None else and_(column >= start_at, upper)

    due_cond: ColumnElement[bool] = col(Agreement.due_date) < due_until
    if period.start is not None:
        due_cond = and_(col(Agreement.due_date) >= period.start, due_cond)
    tallies = {room_id: _Tally() for room_id in room_ids}
    for chunk in in_chunks(list(room_ids)):
        stmt2 = select(Agreement).where(
            col(Agreement.room_id).in_(chunk),
            or_(
                in_period(col(Agreement.created_at)),
                in_period(col(Agreement.closed_at)),
                due_cond,
            ),
        )
        for a in db.exec(stmt2):
            _count(tallies[a.room_id], period, zone, due_until, a)
    return {room_id: tally.figures() for room_id, tally in tallies.items()}


def _count(
    tally: _Tally,
    period: Period,
    zone: ZoneInfo,
    due_until: dt.date,
    a: Agreement,
) -> None:
    status, due_date, created_at, closed_at = a.status, a.due_date, a.created_at, a.closed_at
    if period.contains(created_at.astimezone(zone).date()):
        tally.recorded += 1
    closed_day = closed_at.astimezone(zone).date() if closed_at is not None else None
    done = status == AgreementStatus.DONE and closed_day is not None
    in_time = done and (due_date is None or (closed_day is not None and closed_day <= due_date))
    if done and closed_at is not None and closed_day is not None and period.contains(closed_day):
        tally.done += 1
        tally.done_on_time += int(in_time)
        tally.days_to_done.append((closed_at - created_at).total_seconds() / 86_400)
    if (
        status != AgreementStatus.CANCELLED
        and due_date is not None
        and period.contains(due_date)
        and due_date < due_until
    ):
        tally.due += 1
        tally.overdue += int(not in_time)
