"""What stood open, and of it overdue, at the end of each past month and now: the curve
beside each committee on the coordination's dashboard, defined once, here.

At the end of a month (in the room's zone: the first moment of the next month) an
agreement stood open when it was recorded before that moment and not closed (done or
cancelled) before it; overdue when it also had a due date before the next month's first
day. An agreement is read as its row stands now, as the active cohort is
(storage.figures.agreements): one reopened since counts as open from its recording on,
and one re-dated counts with its new due date. The last point is now, counted as every
report counts open and overdue now (`is_overdue`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.figures.agreements import active_between, is_overdue
from storage.figures.period import shift_month, start_of
from storage.models import Agreement, AgreementStatus


@dataclass(frozen=True)
class Standing:
    """Open, and of those overdue, at one moment."""

    open: int = 0
    overdue: int = 0


def last_months(today: dt.date, count: int) -> list[tuple[int, int]]:
    """The `count` months up to and including today's, oldest first, as (year, month)."""
    return [shift_month(today.year, today.month, -n) for n in range(count - 1, -1, -1)]


def standing(
    db: Session,
    zones: Mapping[str, ZoneInfo],
    months: Sequence[tuple[int, int]],
    now: dt.datetime,
) -> dict[str, list[Standing]]:
    """Per room (the keys of `zones`, with their time zones): one Standing per month of
    `months` (oldest first), at that month's end; a month not over yet counts now."""
    found = {room_id: [Standing() for _ in months] for room_id in zones}
    if not zones or not months:
        return found
    # From the earliest moment any point looks at: whatever closed before it is no help.
    first_year, first_month = months[0]
    since = min(start_of(dt.date(first_year, first_month, 1), z) for z in zones.values())
    tallies = {room_id: [[0, 0] for _ in months] for room_id in zones}
    # Each month's end, as the first day after it and that day's first moment in each zone.
    firsts = [dt.date(*shift_month(y, m, 1), 1) for y, m in months]
    ends = {z.key: [start_of(day, z) for day in firsts] for z in zones.values()}
    for chunk in in_chunks(list(zones)):
        stmt = select(Agreement).where(
            col(Agreement.room_id).in_(chunk), *active_between(since, None)
        )
        for a in db.exec(stmt):
            zone = zones[a.room_id]
            for index, end in enumerate(ends[zone.key]):
                if end > now:  # the month is not over: what stands now
                    stands = a.status == AgreementStatus.OPEN
                    late = stands and is_overdue(a, now.astimezone(zone))
                else:
                    stands = a.created_at < end and (a.closed_at is None or a.closed_at >= end)
                    late = stands and a.due_date is not None and a.due_date < firsts[index]
                if stands:
                    tally = tallies[a.room_id][index]
                    tally[0] += 1
                    tally[1] += late
    for room_id, counts in tallies.items():
        found[room_id] = [Standing(o, d) for o, d in counts]
    return found
