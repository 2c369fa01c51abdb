"""What the leadership's report (the Beschlusskontrolle) reads beyond the figures: each
committee's agreements to list for a period, the meetings it held, and the log of monthly
reports posted, so that each month's is queued once.

The figures themselves (cohorts, overdue, on time) come from storage.figures; the lists
here are cut by the same rules, so a reader counting the listed items finds the figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage import meetings
from storage.db import in_chunks
from storage.figures.agreements import is_overdue
from storage.figures.period import Period, window
from storage.models import Agreement, AgreementStatus, ReportLog


@dataclass
class Tracked:
    """A committee's agreements in its Beschlusskontrolle for a period, each in one list:

    - `due`: due in the period and not done in it (cancelled ones are due no more), or
      overdue now: what the leadership follows up, by due date;
    - `done`: done in the period, by the moment it was done. A done item is listed in the
      report of the period it was done in and, periods not overlapping, in no other.
    """

    due: list[Agreement] = field(default_factory=list)
    done: list[Agreement] = field(default_factory=list)


def tracked(
    db: Session, period: Period, zones: Mapping[str, ZoneInfo], now: dt.datetime
) -> dict[str, Tracked]:
    """Per room (the keys of `zones`, with their time zones): its listed agreements."""
    found = {room_id: Tracked() for room_id in zones}
    if not zones:
        return found
    since, until = window(period, zones.values())
    # The latest local "today" of any zone: no agreement due after it is overdue anywhere.
    latest_today = max(now.astimezone(z).date() for z in zones.values())
    for chunk in in_chunks(list(zones)):
        stmt = select(Agreement).where(
            col(Agreement.room_id).in_(chunk),
            or_(
                and_(
                    col(Agreement.due_date) >= period.first,
                    col(Agreement.due_date) <= period.last,
                    col(Agreement.status) != AgreementStatus.CANCELLED,
                ),
                and_(
                    col(Agreement.status) == AgreementStatus.OPEN,
                    col(Agreement.due_date) <= latest_today,
                ),
                and_(
                    col(Agreement.status) == AgreementStatus.DONE,
                    col(Agreement.closed_at) >= since,
                    col(Agreement.closed_at) < until,
                ),
            ),
        )
        for a in db.exec(stmt):
            zone = zones[a.room_id]
            lists = found[a.room_id]
            if done_in(a, period, zone):
                lists.done.append(a)
            elif (
                a.status != AgreementStatus.CANCELLED
                and a.due_date is not None
                and period.contains(a.due_date)
            ) or is_overdue(a, now.astimezone(zone)):
                lists.due.append(a)
    for lists in found.values():
        lists.due.sort(key=lambda a: (a.due_date or dt.date.max, a.number))
        lists.done.sort(key=_closing)
    return found


def _closing(a: Agreement) -> tuple[dt.datetime, int]:
    assert a.closed_at is not None
    return a.closed_at, a.number


def done_in(a: Agreement, period: Period, zone: ZoneInfo) -> bool:
    """Done on a day of the period in the room's zone: the done cohort of
    storage.figures.agreements, item by item."""
    return (
        a.status == AgreementStatus.DONE
        and a.closed_at is not None
        and period.contains(a.closed_at.astimezone(zone).date())
    )


def meetings_held(db: Session, period: Period, zones: Mapping[str, ZoneInfo]) -> dict[str, int]:
    """Per room: the meetings held (ended) that began on a day of the period in its zone."""
    found = dict.fromkeys(zones, 0)
    if not zones:
        return found
    for m in meetings.held_between(db, *window(period, zones.values())):
        zone = zones.get(m.room_id)
        if zone is not None and period.contains(m.started_at.astimezone(zone).date()):
            found[m.room_id] += 1
    return found


# ------------------------------------------------------------------------- the monthly log


def logged(db: Session, key: str) -> ReportLog | None:
    return db.exec(select(ReportLog).where(ReportLog.key == key)).first()


def log_report(
    db: Session, key: str, *, room_id: str, period_start: dt.date, at: dt.datetime
) -> ReportLog:
    row = ReportLog(key=key, room_id=room_id, period_start=period_start, posted_at=at)
    db.add(row)
    db.flush()
    return row
