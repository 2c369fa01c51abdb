"""The coordinator's desk in the database, on SQLite and PostgreSQL: the read model's
cohorts of a period for committees in two time zones (storage.figures), the
Beschlusskontrolle's lists and meetings (storage.reports), rules of procedure with their
history, the monthly report's log."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from storage import reports, rooms, rules
from storage.db import Database
from storage.figures.agreements import AgreementFigures, Cohort, agreement_figures
from storage.figures.period import Period, month, year
from storage.models import AgreementStatus
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, ROOM

NEW_YORK = ZoneInfo("America/New_York")
OTHER = "!beirat:example.org"
ZONES = {ROOM: BERLIN, OTHER: NEW_YORK}
MARCH = month(2026, 3)
# Thursday the 2nd of April in Berlin (05:00), still the 1st in New York (23:00).
NOW = dt.datetime(2026, 4, 2, 3, 0, tzinfo=dt.UTC)


def at(
    day: int, hour: int = 10, month: int = 3, zone: ZoneInfo = BERLIN, minute: int = 0
) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=zone)


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


def berlin_march(db: Database) -> None:
    """A committee in Berlin: every cohort's corner."""
    # Recorded in February, due and done on time in March.
    add(db, "Bericht", created=at(10, month=2), due=dt.date(2026, 3, 5), done=at(4))
    # Recorded in March, due in March, done two days late.
    add(db, "Einladung", created=at(2), due=dt.date(2026, 3, 10), done=at(12))
    # Recorded in March, due in March, still open: overdue.
    add(db, "Raum", created=at(3), due=dt.date(2026, 3, 16))
    add(db, "Catering", created=at(1), due=dt.date(2026, 3, 19))
    # Due in March but cancelled: neither due nor overdue, but active in March.
    add(db, "Alt", created=at(3), due=dt.date(2026, 3, 6), cancelled=at(5))
    # Due on the 1st of April: overdue in Berlin, where the 2nd has begun.
    add(db, "Später", created=at(4), due=dt.date(2026, 4, 1))
    # Done at 23:30 on its due day: on time.
    add(db, "Spät am Fristtag", created=at(5), due=dt.date(2026, 3, 9), done=at(9, 23, minute=30))
    # Done at 23:30 on the 28th of February: not in March, not active in it.
    add(db, "Februar", created=at(1, month=2), done=at(28, 23, month=2, minute=30))
    # Done at 00:30 on the 1st of March in Berlin (still February in UTC): in March.
    add(db, "Mitternacht", created=at(2, month=2), done=at(1, 0, minute=30))


def new_york_march(db: Database) -> None:
    """A committee in New York: the same rules, read on New York's days."""

    def ny(day: int, hour: int = 10, month: int = 3, minute: int = 0) -> dt.datetime:
        return at(day, hour, month, NEW_YORK, minute)

    # Done at 23:30 on its due day in New York (03:30 the next day in UTC): on time.
    add(
        db,
        "Fristtag",
        created=ny(2),
        due=dt.date(2026, 3, 10),
        done=ny(10, 23, minute=30),
        room=OTHER,
    )
    # Due on the 1st of April, which has not ended in New York: open, not overdue.
    add(db, "Heute fällig", created=ny(3), due=dt.date(2026, 4, 1), room=OTHER)
    # Recorded at 23:30 on the 31st of March in New York (April in UTC): in March.
    add(db, "Spät im März", created=ny(31, 23, minute=30), room=OTHER)
    # Recorded at 22:00 on the 28th of February in New York (March in UTC): not in March.
    add(db, "Ende Februar", created=ny(28, 22, month=2), room=OTHER)
    # Done at 00:30 on the day after its due date in New York: late.
    add(db, "Knapp", created=ny(2), due=dt.date(2026, 3, 20), done=ny(21, 0, minute=30), room=OTHER)


def figures_of(
    db: Database,
    period: Period = MARCH,
    zones: dict[str, ZoneInfo] = ZONES,
    now: dt.datetime = NOW,
) -> dict[str, AgreementFigures]:
    with db.session() as s:
        return agreement_figures(s, period, zones, now)


def test_the_cohorts_of_a_month_in_berlin_and_in_new_york(db: Database) -> None:
    berlin_march(db)
    new_york_march(db)
    found = figures_of(db)
    assert found[ROOM] == AgreementFigures(
        # Einladung, Raum, Catering, Später, Spät am Fristtag (Alt cancelled, apart).
        recorded=Cohort(total=5, done=2, on_time=1, overdue=3),
        cancelled=1,
        # Bericht, Einladung, Raum, Catering, Spät am Fristtag.
        due=Cohort(total=5, done=3, on_time=2, overdue=2),
        # Bericht, Einladung, Spät am Fristtag, Mitternacht (no due date: on time).
        done=4,
        done_on_time=3,
        # 4, 10, 22 and 27 days from recording to done.
        median_days_to_done=16.0,
        # All but Februar.
        active=8,
        open_now=3,
        overdue_now=3,
    )
    assert found[ROOM].due.on_time_rate == pytest.approx(2 / 5)
    assert found[OTHER] == AgreementFigures(
        # Fristtag, Heute fällig, Spät im März, Knapp.
        recorded=Cohort(total=4, done=2, on_time=1, overdue=0),
        due=Cohort(total=2, done=2, on_time=1, overdue=0),
        done=2,
        done_on_time=1,
        # 8 and 19 days.
        median_days_to_done=13.5,
        active=5,
        open_now=3,
        overdue_now=0,
    )
    # Read on Berlin's days, the same rows of New York's committee would count otherwise.
    misread = figures_of(db, zones={OTHER: BERLIN})[OTHER]
    assert (misread.recorded.on_time, misread.overdue_now) == (0, 1)


def test_a_room_without_agreements_has_figures_of_nothing(db: Database) -> None:
    add(db, "Bericht", created=at(2, zone=NEW_YORK), room=OTHER)
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=at(1, month=1))
    found = figures_of(db)
    assert found[ROOM] == AgreementFigures()
    assert found[OTHER].recorded == Cohort(total=1)
    assert found[ROOM].due.on_time_rate is None


def test_the_beschlusskontrolle_lists_each_item_once_by_the_same_rules(db: Database) -> None:
    berlin_march(db)
    new_york_march(db)
    with db.session() as s:
        found = reports.tracked(s, MARCH, ZONES, NOW)
    # Due in March and not done in it, or overdue now: by due date.
    assert [a.text for a in found[ROOM].due] == ["Raum", "Catering", "Später"]
    # Done in March, in the order they were done.
    assert [a.text for a in found[ROOM].done] == [
        "Mitternacht",
        "Bericht",
        "Spät am Fristtag",
        "Einladung",
    ]
    assert [a.text for a in found[OTHER].due] == []
    assert [a.text for a in found[OTHER].done] == ["Fristtag", "Knapp"]
    figures = figures_of(db)
    for room_id in ZONES:
        assert len(found[room_id].done) == figures[room_id].done
    # April: what was done in March is listed no more; what is overdue still is.
    with db.session() as s:
        april = reports.tracked(s, month(2026, 4), ZONES, NOW)
    assert [a.text for a in april[ROOM].due] == ["Raum", "Catering", "Später"]
    assert april[ROOM].done == april[OTHER].done == []
    assert [a.text for a in april[OTHER].due] == ["Heute fällig"]


def test_meetings_are_counted_on_each_rooms_days(db: Database) -> None:
    with db.session() as s:
        for room_id in ZONES:
            seed.room(s, room_id, joined_at=at(1, month=1))
        # 23:30 on the 31st of March in Berlin: March.
        seed.meeting(s, ROOM, by=BEN, at=at(31, 23, minute=30), hours=1)
        # Still running: not held yet.
        seed.meeting(s, ROOM, by=BEN, at=at(20), hours=None)
        # 22:00 on the 31st of March in New York (April in UTC): March.
        seed.meeting(s, OTHER, by=BEN, at=at(31, 22, zone=NEW_YORK), hours=1)
        # 23:00 on the 28th of February in New York (March in UTC): February.
        seed.meeting(s, OTHER, by=BEN, at=at(28, 23, month=2, zone=NEW_YORK), hours=1)
    with db.session() as s:
        assert reports.meetings_held(s, MARCH, ZONES) == {ROOM: 1, OTHER: 1}
        assert reports.meetings_held(s, month(2026, 2), ZONES) == {ROOM: 0, OTHER: 1}


def test_a_year_of_fifty_committees_is_counted_in_one_go(db: Database) -> None:
    created = 0
    zones: dict[str, ZoneInfo] = {}
    with db.session() as s:
        for r in range(50):
            room = f"!gremium{r}:example.org"
            zones[room] = BERLIN if r % 2 else NEW_YORK
            seed.room(s, room, joined_at=at(1, month=1))
            for n in range(24):  # two a month
                day = dt.date(2025, 1, 1) + dt.timedelta(days=15 * n)
                done_at = dt.datetime.combine(day + dt.timedelta(days=7), dt.time(9), zones[room])
                seed.agreement(
                    s,
                    room,
                    f"Punkt {n}",
                    by=BEN,
                    at=dt.datetime.combine(day, dt.time(9), tzinfo=zones[room]),
                    owners=[BEN],
                    due=day + dt.timedelta(days=14),
                    status=AgreementStatus.DONE if n % 2 == 0 else AgreementStatus.OPEN,
                    closed_at=done_at if n % 2 == 0 else None,
                )
                created += 1
    found = figures_of(db, year(2025), zones, now=at(1))
    assert len(found) == 50
    total = sum(found.values(), AgreementFigures())
    assert total.recorded == Cohort(total=1200, done=600, on_time=600, overdue=600)
    assert created == 1200
    assert total.due == Cohort(total=1200, done=600, on_time=600, overdue=600)
    assert (total.done, total.done_on_time) == (600, 600)
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
