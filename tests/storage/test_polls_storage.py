"""Polls on SQLite and PostgreSQL: numbering per room, one vote per voter, deadlines."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from storage import polls, rooms
from storage.db import Database
from storage.models import PollKind

T0 = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
ROOM = "!gremium:example.org"
OTHER = "!andere:example.org"
ANSWERS = [polls.Answer(str(i), f"{i}") for i in range(1, 6)]


def _poll(s: Session, room: str, event: str, closes: dt.datetime | None) -> int:
    poll, created = polls.create(
        s,
        room_id=room,
        kind=PollKind.PULSE,
        question="Wie zufrieden?",
        answers=ANSWERS,
        created_by="@anna:example.org",
        at=T0,
        closes_at=closes,
        source_event_id=event,
    )
    assert created
    assert poll.id is not None
    return poll.id


def test_polls_are_numbered_per_room_and_a_replayed_command_creates_none(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=T0)
        rooms.ensure_room(s, OTHER, joined_at=T0)
        first = _poll(s, ROOM, "$a", None)
        _poll(s, ROOM, "$b", None)
        _poll(s, OTHER, "$c", None)
        again, created = polls.create(
            s,
            room_id=ROOM,
            kind=PollKind.PULSE,
            question="Wie zufrieden?",
            answers=ANSWERS,
            created_by="@anna:example.org",
            at=T0,
            source_event_id="$a",
        )
        assert not created
        assert again.id == first
        s.commit()
    with db.session() as s:
        assert [p.number for p in polls.in_room(s, ROOM)] == [1, 2]
        assert [p.number for p in polls.in_room(s, OTHER)] == [1]
        latest = polls.latest(s, ROOM)
        assert latest is not None
        assert latest.number == 2


def test_a_voters_new_answer_replaces_the_old_one(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=T0)
        poll_id = _poll(s, ROOM, "$a", None)
        assert polls.record_vote(s, poll_id, "h" * 64, ["4"])
        assert polls.record_vote(s, poll_id, "g" * 64, ["5"])
        assert not polls.record_vote(s, poll_id, "h" * 64, ["2"])
        s.commit()
    with db.session() as s:
        poll = polls.get(s, poll_id)
        assert poll is not None
        tally = polls.tally(s, poll)
        assert tally.voters == 2
        assert tally.counts == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}


def test_deadlines_come_back_aware_and_closed_polls_are_not_due_again(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=T0)
        early = _poll(s, ROOM, "$a", T0 + dt.timedelta(hours=1))
        _poll(s, ROOM, "$b", T0 + dt.timedelta(hours=5))
        s.commit()
    with db.session() as s:
        assert polls.next_close(s) == T0 + dt.timedelta(hours=1)
        due = polls.due_to_close(s, T0 + dt.timedelta(hours=2))
        assert [p.id for p in due] == [early]
        assert polls.close(s, due[0], at=T0 + dt.timedelta(hours=1), by=None)
        assert not polls.close(s, due[0], at=T0 + dt.timedelta(hours=2), by=None)
        s.commit()
    with db.session() as s:
        assert polls.due_to_close(s, T0 + dt.timedelta(hours=2)) == []
        assert polls.next_close(s, ROOM) == T0 + dt.timedelta(hours=5)
        assert polls.next_close(s, OTHER) is None
