"""Meetings, attendees, plans and agendas on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy.exc import IntegrityError

from storage import meetings, rooms
from storage.db import Database
from storage.models import AgreementStatus
from tests import seed

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
ROOM = "!gremium:example.org"
OTHER = "!andere:example.org"
ANNA = "@anna:example.org"
CHAIR = "@vorsitz:example.org"


def _rooms(db: Database) -> None:
    with db.session() as s:
        for room in (ROOM, OTHER):
            seed.room(s, room, joined_at=T0 - dt.timedelta(days=30))


def _meeting(db: Database, room: str, start: dt.datetime, hours: float | None, event: str) -> int:
    with db.session() as s:
        m = seed.meeting(s, room, by=CHAIR, at=start, hours=hours, event=event)
        assert m.id is not None
        return m.id


def test_numbers_count_per_room_and_a_replayed_start_starts_nothing_new(db: Database) -> None:
    _rooms(db)
    _meeting(db, ROOM, T0, 1, "$a")
    _meeting(db, OTHER, T0, 1, "$b")
    _meeting(db, ROOM, T0 + dt.timedelta(days=7), None, "$c")
    with db.session() as s:
        again, created = meetings.start(
            s, room_id=ROOM, title=None, by=CHAIR, at=T0, source_event_id="$c"
        )
        assert not created
        assert again.number == 2
        running = meetings.running(s, ROOM)
        assert running is not None
        assert running.number == 2
        assert meetings.running(s, OTHER) is None
        assert [m.number for m in meetings.latest(s, ROOM, limit=5)] == [2, 1]
        assert meetings.count(s, ROOM) == 2


def test_an_attendee_is_noted_once_and_only_while_the_meeting_ran(db: Database) -> None:
    _rooms(db)
    meeting_id = _meeting(db, ROOM, T0, 2, "$a")
    with db.session() as s:
        assert meetings.running_at(s, ROOM, T0 - dt.timedelta(minutes=1)) is None
        assert meetings.running_at(s, ROOM, T0 + dt.timedelta(hours=3)) is None
        during = meetings.running_at(s, ROOM, T0 + dt.timedelta(hours=1))
        assert during is not None
        assert during.id == meeting_id
        assert meetings.note_attendee(s, meeting_id, ANNA, "Anna Schmidt", T0)
        assert not meetings.note_attendee(s, meeting_id, ANNA, "Anna", T0 + dt.timedelta(hours=1))
    with db.session() as s:
        [anna] = meetings.attendees(s, meeting_id)
        assert (anna.user_id, anna.display_name, anna.first_seen_at) == (ANNA, "Anna Schmidt", T0)


def test_meetings_held_per_room_in_a_period(db: Database) -> None:
    _rooms(db)
    _meeting(db, ROOM, T0, 1, "$a")  # March
    _meeting(db, ROOM, T0 + dt.timedelta(days=28), 1, "$b")  # April
    _meeting(db, OTHER, T0 + dt.timedelta(days=1), 1, "$c")
    _meeting(db, OTHER, T0 + dt.timedelta(days=2), None, "$d")  # still running: not held
    march = (dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC))
    with db.session() as s:
        held = Counter(m.room_id for m in meetings.held_between(s, *march))
        assert held == {ROOM: 1, OTHER: 1}
        assert [m.number for m in meetings.held_between(s, *march, room_id=ROOM)] == [1]


def test_agreement_changes_of_the_meeting_window_only(db: Database) -> None:
    _rooms(db)
    with db.session() as s:
        seed.agreement(
            s,
            ROOM,
            "Alt",
            by=ANNA,
            at=T0 - dt.timedelta(days=1),
            owners=[ANNA],
            status=AgreementStatus.DONE,
            closed_at=T0 + dt.timedelta(minutes=20),
        )
        seed.agreement(s, ROOM, "Neu", by=ANNA, at=T0 + dt.timedelta(minutes=10), owners=[ANNA])
    with db.session() as s:
        found = meetings.agreement_changes(s, ROOM, T0, T0 + dt.timedelta(hours=1))
        assert [(a.text, [str(r.action) for r in rows]) for a, rows in found] == [
            ("Alt", ["done"]),
            ("Neu", ["created"]),
        ]
        assert meetings.agreement_changes(s, OTHER, T0, T0 + dt.timedelta(hours=1)) == []


def test_a_plan_is_one_date_or_a_series_replaced_and_cleared(db: Database) -> None:
    _rooms(db)
    with db.session() as s:
        meetings.set_plan(
            s, ROOM, recurrence='{"freq": "weekly"}', by=CHAIR, at=T0, source_event_id="$p1"
        )
        meetings.set_plan(
            s, ROOM, next_date=dt.date(2026, 4, 7), by=CHAIR, at=T0, source_event_id="$p2"
        )
        with pytest.raises(ValueError, match="one date or a series"):
            meetings.set_plan(s, ROOM, by=CHAIR, at=T0, source_event_id="$p3")
    with db.session() as s:
        plan = meetings.plan_of(s, ROOM)
        assert plan is not None
        assert (plan.next_date, plan.recurrence, plan.source_event_id) == (
            dt.date(2026, 4, 7),
            None,
            "$p2",
        )
        assert [p.room_id for p in meetings.active_plans(s)] == [ROOM]
        rooms.mark_left(s, ROOM, at=T0)
        assert meetings.active_plans(s) == []
        assert meetings.clear_plan(s, ROOM)
        assert not meetings.clear_plan(s, ROOM)


def test_an_agenda_is_recorded_once_per_room_and_meeting_day(db: Database) -> None:
    _rooms(db)
    day = dt.date(2026, 4, 7)
    with db.session() as s:
        assert not meetings.agenda_posted(s, ROOM, day)
        meetings.record_agenda(s, ROOM, day, key="meeting-agenda:x", at=T0)
        assert meetings.agenda_posted(s, ROOM, day)
        assert not meetings.agenda_posted(s, OTHER, day)
    with pytest.raises(IntegrityError), db.session() as s:
        meetings.record_agenda(s, ROOM, day, key="meeting-agenda:x", at=T0)
