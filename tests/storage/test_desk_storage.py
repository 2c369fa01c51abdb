"""The coordinator's desk in the database, on SQLite and PostgreSQL: each committee's figures
for a period, rules of procedure with their history, the monthly report's log."""

from __future__ import annotations

import datetime as dt

import pytest

from storage import reports, rooms, rules
from storage.db import Database
from storage.figures import Figures, Period, figures
from storage.models import AgreementStatus
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, ROOM

OTHER = "!jugendhilfe:example.org"
# The 1st of March 2026 has begun in Berlin, but not yet in UTC: periods are local.
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=BERLIN)


def at(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=BERLIN)


def add(
    db: Database,
    text: str,
    *,
    created: dt.datetime,
    due: dt.date | None = None,
    done: dt.datetime | None = None,
    cancelled: dt.datetime | None = None,
    room: str = ROOM,
) -> None:
    if done is not None:
        status, closed_at = AgreementStatus.DONE, done
    elif cancelled is not None:
        status, closed_at = AgreementStatus.CANCELLED, cancelled
    else:
        status, closed_at = AgreementStatus.OPEN, None
    with db.session() as s:
        seed.room(s, room, joined_at=at(1, month=1))
        seed.agreement(
            s,
            room,
            text,
            by=ANNA,
            at=created,
            owners=[ANNA],
            due=due,
            status=status,
            closed_at=closed_at,
        )


def test_a_committees_month_counts_recorded_done_on_time_and_overdue(db: Database) -> None:
    # Recorded in February, due and done on time in March.
    add(db, "Bericht", created=at(10, month=2), due=dt.date(2026, 3, 5), done=at(4))
    # Recorded in March, due in March, done two days late.
    add(db, "Einladung", created=at(2), due=dt.date(2026, 3, 10), done=at(12))
    # Recorded in March, due in March, still open: overdue.
    add(db, "Raum", created=at(3), due=dt.date(2026, 3, 16))
    # Due in March but cancelled: neither due nor overdue.
    add(db, "Alt", created=at(3), due=dt.date(2026, 3, 6), cancelled=at(5))
    # Due later this month: not late yet.
    add(db, "Später", created=at(4), due=dt.date(2026, 3, 25))
    # Done in March without a due date: done, on time.
    add(db, "Ohne Frist", created=at(1, 0, month=3), done=at(11))
    # Done just before March began in Berlin (23:30 on the 28th of February).
    add(db, "Februar", created=at(1, month=2), done=at(28, 23, month=2).replace(minute=30))
    found = figures_of(db, MARCH)
    assert found[ROOM] == Figures(
        recorded=5,
        done=3,
        done_on_time=2,
        due=3,
        overdue=2,
        # 22, 10 and 10 days 10 hours from recording to done.
        median_days_to_done=10.4,
    )
    assert found[ROOM].completion_rate == pytest.approx(1 / 3)


def figures_of(db: Database, period: Period, now: dt.datetime = NOW) -> dict[str, Figures]:
    with db.session() as s:
        return figures(s, period, now=now, zone=BERLIN)


def test_every_room_the_bot_is_in_is_counted_even_without_agreements(db: Database) -> None:
    add(db, "Bericht", created=at(2), room=OTHER)
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=at(1, month=1))
        rooms.ensure_room(s, "!verlassen:example.org", joined_at=at(1, month=1))
        rooms.mark_left(s, "!verlassen:example.org", at=at(2))
    found = figures_of(db, MARCH)
    assert found == {OTHER: Figures(recorded=1), ROOM: Figures()}
    assert found[ROOM].completion_rate is None


def test_since_the_beginning_counts_everything_due_so_far(db: Database) -> None:
    add(db, "Alt", created=at(1, month=1), due=dt.date(2026, 1, 20), done=at(19, month=1))
    add(db, "Neu", created=at(2), due=dt.date(2026, 3, 10))
    everything = Period(None, NOW.date() + dt.timedelta(days=1))
    assert figures_of(db, everything)[ROOM] == Figures(
        recorded=2, done=1, done_on_time=1, due=2, overdue=1, median_days_to_done=18.0
    )


def test_a_year_of_fifty_committees_is_counted_in_one_go(db: Database) -> None:
    created = 0
    with db.session() as s:
        for r in range(50):
            room = f"!gremium{r}:example.org"
            seed.room(s, room, joined_at=at(1, month=1))
            for n in range(24):  # two a month
                day = dt.date(2025, 1, 1) + dt.timedelta(days=15 * n)
                done_at = dt.datetime.combine(day + dt.timedelta(days=7), dt.time(9), BERLIN)
                seed.agreement(
                    s,
                    room,
                    f"Punkt {n}",
                    by=BEN,
                    at=dt.datetime.combine(day, dt.time(9), tzinfo=BERLIN),
                    owners=[BEN],
                    due=day + dt.timedelta(days=14),
                    status=AgreementStatus.DONE if n % 2 == 0 else AgreementStatus.OPEN,
                    closed_at=done_at if n % 2 == 0 else None,
                )
                created += 1
    year = Period(dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    found = figures_of(db, year, now=at(1))
    assert len(found) == 50
    total = sum(found.values(), Figures())
    assert total.recorded == created == 1200
    assert total.done == 600
    assert total.done_on_time == 600
    assert total.due == 1200
    assert total.overdue == 600
    assert {f.median_days_to_done for f in found.values()} == {7.0}


def test_rules_keep_every_version_with_who_and_when(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=at(1, month=1))
        assert rules.current(s, ROOM) is None
        rules.set_text(s, ROOM, "§1 Alt", set_by=ANNA, at=at(2), source_event_id="$r1")
        rules.set_text(s, ROOM, "§1 Neu\n§2 Mehr", set_by=BEN, at=at(3), source_event_id="$r2")
        # The same event again (a replay) stores nothing.
        _, created = rules.set_text(s, ROOM, "x", set_by=BEN, at=at(4), source_event_id="$r2")
        assert not created
    with db.session() as s:
        newest = rules.current(s, ROOM)
        assert newest is not None
        assert (newest.text, newest.set_by, newest.set_at) == ("§1 Neu\n§2 Mehr", BEN, at(3))
        assert [(v.text, v.set_by) for v in rules.history(s, ROOM)] == [
            ("§1 Alt", ANNA),
            ("§1 Neu\n§2 Mehr", BEN),
        ]
        assert rules.current(s, OTHER) is None


def test_a_months_report_is_logged_once(db: Database) -> None:
    with db.session() as s:
        assert reports.logged(s, "report:2026-02") is None
        reports.log_report(
            s, "report:2026-02", room_id=ROOM, period_start=dt.date(2026, 2, 1), at=at(1)
        )
    with db.session() as s:
        found = reports.logged(s, "report:2026-02")
        assert found is not None
        assert (found.room_id, found.period_start, found.posted_at) == (
            ROOM,
            dt.date(2026, 2, 1),
            at(1),
        )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), db.session() as s:
        reports.log_report(
            s, "report:2026-02", room_id=ROOM, period_start=dt.date(2026, 2, 1), at=at(2)
        )
