"""What becomes of a committee's agreements, defined once: when one is overdue, when it was
done on time, its state, and the cohorts a report counts for a period.

All days are read in the room's own time zone. For a period:

- recorded: recorded in the period (cancelled ones counted apart); of those, done by now,
  done on time, and open and overdue now;
- due: not cancelled, due in the period on a day that has passed; of those, done by now,
  done on time, and open and overdue now. Its on-time share is the punctuality rate
  (Termintreue): of what fell due, how much was done by its due date;
- done: done in the period; of those, done on time, and the median calendar days from
  recording to done;
- active: open at some moment of the period (recorded before its end, not closed before
  its start);
- open and overdue now: the state at the moment of asking, whatever the period.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.figures.period import Period, window
from storage.models import Agreement, AgreementStatus


def is_overdue(a: Agreement, now: dt.datetime) -> bool:
    """Open and past its due date (or its due time today); `now` is in the room's zone."""
    if a.status != AgreementStatus.OPEN or a.due_date is None:
        return False
    today = now.date()
    if a.due_date != today:
        return a.due_date < today
    return a.due_time is not None and a.due_time < now.time().replace(tzinfo=None)


def overdue_condition(now: dt.datetime) -> ColumnElement[bool]:
    """is_overdue as a query's condition, for listing a room's overdue agreements page by
    page; `now` is in the room's zone."""
    today = now.date()
    clock = now.time().replace(tzinfo=None)
    return and_(
        col(Agreement.status) == AgreementStatus.OPEN,
        or_(
            col(Agreement.due_date) < today,
            and_(
                col(Agreement.due_date) == today,
                col(Agreement.due_time).is_not(None),
                col(Agreement.due_time) < clock,
            ),
        ),
    )


def active_between(
    since: dt.datetime | None, until: dt.datetime | None
) -> list[ColumnElement[bool]]:
    """The active cohort as a query's conditions (None: unbounded): recorded before the
    end, not closed before the start; what an export of a period holds."""
    where: list[ColumnElement[bool]] = []
    if until is not None:
        where.append(col(Agreement.created_at) < until)
    if since is not None:
        where.append(or_(col(Agreement.closed_at).is_(None), col(Agreement.closed_at) >= since))
    return where


def done_on_time(a: Agreement, zone: ZoneInfo) -> bool:
    """Done, on or before its due date (a day in the room's zone); without one: on time."""
    if a.status != AgreementStatus.DONE or a.closed_at is None:
        return False
    return a.due_date is None or a.closed_at.astimezone(zone).date() <= a.due_date


class State(StrEnum):
    """An agreement's state as reports and exports show it: its status, with open ones
    past due told apart."""

    OVERDUE = "overdue"
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def state_of(a: Agreement, now: dt.datetime) -> State:
    """`now` in the room's zone."""
    return State.OVERDUE if is_overdue(a, now) else State(a.status)


@dataclass(frozen=True)
class Cohort:
    """A set of agreements and what became of them by now."""

    total: int = 0
    done: int = 0
    on_time: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.total - self.done

    @property
    def on_time_rate(self) -> float | None:
        """The share done by the due date; None without any."""
        return self.on_time / self.total if self.total else None

    def __add__(self, other: Cohort) -> Cohort:
        return Cohort(
            self.total + other.total,
            self.done + other.done,
            self.on_time + other.on_time,
            self.overdue + other.overdue,
        )


@dataclass(frozen=True)
class AgreementFigures:
    recorded: Cohort = Cohort()
    cancelled: int = 0
    due: Cohort = Cohort()
    done: int = 0
    done_on_time: int = 0
    median_days_to_done: float | None = None
    active: int = 0
    open_now: int = 0
    overdue_now: int = 0

    def __add__(self, other: AgreementFigures) -> AgreementFigures:
        """Totals; the median of a sum is unknown and left out."""
        return AgreementFigures(
            recorded=self.recorded + other.recorded,
            cancelled=self.cancelled + other.cancelled,
            due=self.due + other.due,
            done=self.done + other.done,
            done_on_time=self.done_on_time + other.done_on_time,
            active=self.active + other.active,
            open_now=self.open_now + other.open_now,
            overdue_now=self.overdue_now + other.overdue_now,
        )


@dataclass
class _Tally:
    recorded: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    due: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    cancelled: int = 0
    done: int = 0
    done_on_time: int = 0
    active: int = 0
    days_to_done: list[int] = field(default_factory=list)

    def figures(self, open_now: int, overdue_now: int) -> AgreementFigures:
        days = self.days_to_done
        return AgreementFigures(
            recorded=Cohort(*self.recorded),
            cancelled=self.cancelled,
            due=Cohort(*self.due),
            done=self.done,
            done_on_time=self.done_on_time,
            median_days_to_done=float(statistics.median(days)) if days else None,
            active=self.active,
            open_now=open_now,
            overdue_now=overdue_now,
        )


def agreement_figures(
    db: Session, period: Period, zones: Mapping[str, ZoneInfo], now: dt.datetime
) -> dict[str, AgreementFigures]:
    """Per room (the keys of `zones`, with their time zones): the period's figures."""
    if not zones:
        return {}
    since, until = window(period, zones.values())
    tallies = {room_id: _Tally() for room_id in zones}
    open_now = dict.fromkeys(zones, 0)
    overdue_now = dict.fromkeys(zones, 0)
    for chunk in in_chunks(list(zones)):
        stmt = select(Agreement).where(
            col(Agreement.room_id).in_(chunk),
            or_(
                col(Agreement.status) == AgreementStatus.OPEN,
                and_(*active_between(since, until)),
                and_(
                    col(Agreement.due_date) >= period.first,
                    col(Agreement.due_date) <= period.last,
                ),
            ),
        )
        for a in db.exec(stmt):
            zone = zones[a.room_id]
            local_now = now.astimezone(zone)
            if a.status == AgreementStatus.OPEN:
                open_now[a.room_id] += 1
                overdue_now[a.room_id] += is_overdue(a, local_now)
            _count(tallies[a.room_id], a, period, zone, local_now)
    return {r: t.figures(open_now[r], overdue_now[r]) for r, t in tallies.items()}


def _count(t: _Tally, a: Agreement, period: Period, zone: ZoneInfo, now: dt.datetime) -> None:
    created = a.created_at.astimezone(zone).date()
    closed = a.closed_at.astimezone(zone).date() if a.closed_at is not None else None
    cancelled = a.status == AgreementStatus.CANCELLED
    done = a.status == AgreementStatus.DONE
    in_time = done_on_time(a, zone)
    fate = (1, int(done), int(in_time), int(is_overdue(a, now)))
    if created <= period.last and (closed is None or closed >= period.first):
        t.active += 1
    if period.contains(created):
        if cancelled:
            t.cancelled += 1
        else:
            t.recorded = [x + y for x, y in zip(t.recorded, fate, strict=True)]
    if (
        not cancelled
        and a.due_date is not None
        and period.contains(a.due_date)
        and a.due_date < now.date()
    ):
        t.due = [x + y for x, y in zip(t.due, fate, strict=True)]
    if done and closed is not None and period.contains(closed):
        t.done += 1
        t.done_on_time += in_time
        t.days_to_done.append((closed - created).days)
