"""Agenda requests, the roll call's answers, objections to minutes and their approval, on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from storage import agenda_requests, meetings, rooms
from storage.db import Database
from storage.models import AgendaKind, AttendanceStatus
from tests import seed

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
ROOM = "!gremium:example.org"
OTHER = "!andere:example.org"
ANNA = "@anna:example.org"
BEN = "@ben:example.org"
CHAIR = "@vorsitz:example.org"
APRIL = dt.date(2026, 4, 14)
MAY = dt.date(2026, 5, 12)


def _rooms(db: Database) -> None:
    with db.session() as s:
        for room in (ROOM, OTHER):
            seed.room(s, room, joined_at=T0 - dt.timedelta(days=30))


def _propose(db: Database, room: str, text: str, day: dt.date | None, at: dt.datetime) -> None:
    with db.session() as s:
        _, created = agenda_requests.propose(
            s,
            room_id=room,
            text=text,
            by=ANNA,
            at=at,
            meeting_date=day,
            source_event_id=f"$top-{text}",
        )
        assert created


def test_a_meeting_has_the_items_for_its_day_earlier_days_and_the_next_one(db: Database) -> None:
    _rooms(db)
    _propose(db, ROOM, "für April", APRIL, T0)
    _propose(db, ROOM, "für März, nicht gehalten", dt.date(2026, 3, 10), T0)
    _propose(db, ROOM, "ohne Plan", None, T0 + dt.timedelta(hours=1))
    _propose(db, ROOM, "für Mai", MAY, T0)
    _propose(db, OTHER, "anderes Gremium", APRIL, T0)
    with db.session() as s:
        _again, created = agenda_requests.propose(
            s,
            room_id=ROOM,
            text="für April",
            by=ANNA,
            at=T0,
            meeting_date=APRIL,
            source_event_id="$top-für April",
        )
        assert not created
        shown = [r.text for r in agenda_requests.open_for(s, ROOM, APRIL)]
        assert shown == ["für April", "für März, nicht gehalten", "ohne Plan"]
        everything = [r.text for r in agenda_requests.open_for(s, ROOM, None)]
        assert sorted(everything) == sorted([*shown, "für Mai"])


def test_the_meeting_on_the_day_takes_up_what_was_asked_before_it_began(db: Database) -> None:
    _rooms(db)
    start = dt.datetime(2026, 4, 14, 14, 0, tzinfo=UTC)
    _propose(db, ROOM, "vorher", APRIL, T0)
    _propose(db, ROOM, "während", None, start + dt.timedelta(minutes=5))
    _propose(db, ROOM, "für Mai", MAY, T0)
    with db.session() as s:
        m = seed.meeting(s, ROOM, by=CHAIR, at=start, hours=2)
        taken = agenda_requests.mark_done(s, m, meeting_day=APRIL, at=start)
        assert [r.text for r in taken] == ["vorher"]
        assert [r.text for r in agenda_requests.open_for(s, ROOM, MAY)] == ["für Mai", "während"]


def test_the_approval_of_objected_minutes_goes_on_the_agenda_once(db: Database) -> None:
    _rooms(db)
    with db.session() as s:
        m = seed.meeting(s, ROOM, by=CHAIR, at=T0, hours=1)
        assert m.id is not None
        first = agenda_requests.put_minutes_on_agenda(s, m, text="Genehmigung", at=T0, key="$k")
        assert first is not None
        assert first.kind == AgendaKind.MINUTES
        assert agenda_requests.put_minutes_on_agenda(s, m, text="x", at=T0, key="$k") is None
        assert agenda_requests.put_minutes_on_agenda(s, m, text="x", at=T0, key="$k2") is None
        item = agenda_requests.minutes_item(s, m.id)
        assert item is not None
        assert item.ref_id == m.id


def test_the_roll_call_answer_replaces_the_earlier_one(db: Database) -> None:
    _rooms(db)
    with db.session() as s:
        m = seed.meeting(s, ROOM, by=CHAIR, at=T0)
        assert m.id is not None
        meetings.note_attendee(s, m.id, ANNA, "Anna", T0)
        assert meetings.status_of(s, m.id, ANNA) is None
        before = meetings.set_status(s, m.id, ANNA, "Anna", AttendanceStatus.EXCUSED, T0)
        assert before is None
        before = meetings.set_status(s, m.id, ANNA, "Anna", AttendanceStatus.PRESENT, T0)
        assert before == AttendanceStatus.EXCUSED
        meetings.set_status(s, m.id, BEN, None, AttendanceStatus.PRESENT, T0)
        rows = {a.user_id: a.status for a in meetings.attendees(s, m.id)}
        assert rows == {ANNA: AttendanceStatus.PRESENT, BEN: AttendanceStatus.PRESENT}


def test_objections_and_the_minutes_awaiting_approval(db: Database) -> None:
    _rooms(db)
    with db.session() as s:
        old = seed.meeting(s, ROOM, by=CHAIR, at=T0 - dt.timedelta(days=200), hours=1)
        first = seed.meeting(s, ROOM, by=CHAIR, at=T0, hours=1)
        elsewhere = seed.meeting(s, OTHER, by=CHAIR, at=T0, hours=1)
        seed.meeting(s, ROOM, by=CHAIR, at=T0 + dt.timedelta(days=1))  # still running
        assert first.id is not None
        row, created = meetings.add_objection(
            s, first.id, user_id=BEN, reason="TOP 3 fehlt", at=T0, source_event_id="$e1"
        )
        assert created
        again, created = meetings.add_objection(
            s, first.id, user_id=BEN, reason="anders", at=T0, source_event_id="$e1"
        )
        assert not created
        assert again.id == row.id
        found = meetings.objection_of(s, first.id, BEN)
        assert found is not None
        assert found.reason == "TOP 3 fehlt"
        assert meetings.objection_of(s, first.id, ANNA) is None
        assert meetings.objections(s, [first.id, elsewhere.id or 0]) == {
            first.id: [row],
            elsewhere.id: [],
        }
        since = T0 - dt.timedelta(days=120)
        waiting = meetings.awaiting_approval(s, since)
        assert [(m.room_id, m.number) for m in waiting] == [(OTHER, 1), (ROOM, 2)]
        assert old not in waiting
        meetings.approve_minutes(s, first, T0 + dt.timedelta(days=15))
        assert [m.room_id for m in meetings.awaiting_approval(s, since)] == [OTHER]
        rooms.mark_left(s, OTHER, at=T0)
        assert meetings.awaiting_approval(s, since, [OTHER]) == []
