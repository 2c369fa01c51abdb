"""Decisions in the database, on SQLite and PostgreSQL: numbers per room and year, a
replayed command stores nothing twice, the deadlines the timer reads, a failed
circulation's agenda item once, the follow-up agreements of a Beschluss, and the rows the
exports and the report read."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from storage import decisions as store
from storage.db import Database
from storage.exports import Window
from storage.models import AgendaRequest, Decision, DecisionKind, DecisionOutcome
from tests import seed
from tests.dialog import ANNA, BERLIN, CHAIR

ROOM = "!schule:example.org"
OTHER = "!jugend:example.org"
AT = dt.datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)


def _decision(
    room_id: str,
    event: str,
    *,
    outcome: DecisionOutcome = DecisionOutcome.PASSED,
    kind: DecisionKind = DecisionKind.MEETING,
    decided_at: dt.datetime | None = AT,
    deadline: dt.datetime | None = None,
) -> Decision:
    return Decision(
        room_id=room_id,
        kind=kind,
        outcome=outcome,
        text=f"Antrag {event}",
        deadline=deadline,
        yes=3,
        eligible=4,
        participated=3,
        created_by=CHAIR,
        created_at=AT,
        decided_at=decided_at,
        source_event_id=event,
    )


def test_numbers_count_per_room_and_year_and_a_replay_stores_nothing(db: Database) -> None:
    with db.session() as s:
        seed.room(s, ROOM)
        seed.room(s, OTHER)
        for event, room, year in (
            ("$a", ROOM, 2026),
            ("$b", ROOM, 2026),
            ("$c", OTHER, 2026),
            ("$d", ROOM, 2027),
        ):
            d, created = store.create(s, _decision(room, event))
            assert created
            store.number(s, d, year)
        again, created = store.create(s, _decision(ROOM, "$a"))
        assert not created
        s.commit()
    with db.session() as s:
        found = [(d.room_id, d.year, d.number) for d in store.passed_in(s, ROOM, 2026)]
        assert found == [(ROOM, 2026, 1), (ROOM, 2026, 2)]
        assert store.by_number(s, OTHER, 2026, 1) is not None
        assert store.by_number(s, ROOM, 2027, 1) is not None
        assert store.by_number(s, ROOM, 2027, 2) is None
        assert store.latest_year(s, ROOM) == 2027
        assert again.id == store.by_number(s, ROOM, 2026, 1).id  # type: ignore[union-attr]


def test_the_timer_finds_running_circulations_by_deadline(db: Database) -> None:
    soon, later = AT + dt.timedelta(days=2), AT + dt.timedelta(days=5)
    with db.session() as s:
        seed.room(s, ROOM)
        seed.room(s, OTHER)
        for event, room, deadline in (("$a", ROOM, later), ("$b", OTHER, soon)):
            store.create(
                s,
                _decision(
                    room,
                    event,
                    kind=DecisionKind.CIRCULATION,
                    outcome=DecisionOutcome.RUNNING,
                    decided_at=None,
                    deadline=deadline,
                ),
            )
        s.commit()
    with db.session() as s:
        assert store.next_deadline(s) == soon
        assert store.next_deadline(s, ROOM) == later
        assert store.due(s, soon - dt.timedelta(seconds=1)) == []
        assert [d.room_id for d in store.due(s, soon)] == [OTHER]
        assert [d.source_event_id for d in store.running(s, ROOM)] == ["$a"]


def test_a_failed_circulation_goes_on_the_agenda_once(db: Database) -> None:
    with db.session() as s:
        seed.room(s, ROOM)
        d, _ = store.create(
            s, _decision(ROOM, "$a", kind=DecisionKind.CIRCULATION, outcome=DecisionOutcome.TOO_FEW)
        )
        assert store.put_on_agenda(s, d, at=AT, key="decision:1:agenda") is not None
        assert store.put_on_agenda(s, d, at=AT, key="decision:1:agenda") is None
        s.commit()
    with db.session() as s:
        [item] = s.exec(select(AgendaRequest)).all()
        assert (item.kind, item.ref_id, item.proposed_by) == ("circulation", d.id, CHAIR)


def test_follow_ups_are_found_by_their_beschluss_once_each(db: Database) -> None:
    with db.session() as s:
        seed.room(s, ROOM)
        d, _ = store.create(s, _decision(ROOM, "$a"))
        store.number(s, d, 2026)
        first = seed.agreement(s, ROOM, "Zelt anfragen", by=CHAIR, at=AT, owners=[ANNA])
        second = seed.agreement(s, ROOM, "Plakate drucken", by=CHAIR, at=AT, owners=[ANNA])
        seed.agreement(s, ROOM, "Unverbunden", by=CHAIR, at=AT, owners=[ANNA])
        for a in (second, first, first):  # the second note on #1 is a replay
            store.add_follow_up(
                s, d, a, note="Folge aus Beschluss 2026/1", actor=CHAIR, at=AT, source_event_id="$f"
            )
        s.commit()
    with db.session() as s:
        found = store.follow_ups(s, ROOM, ["2026/1", "2026/2"])
        assert [a.text for a in found["2026/1"]] == ["Zelt anfragen", "Plakate drucken"]
        assert found["2026/2"] == []
        assert store.follow_ups(s, OTHER, ["2026/1"]) == {"2026/1": []}


def test_exports_and_reports_read_ended_decisions_in_their_window(db: Database) -> None:
    with db.session() as s:
        seed.room(s, ROOM, name="Schulausschuss")
        seed.room(s, OTHER)
        passed, _ = store.create(s, _decision(ROOM, "$a"))
        store.number(s, passed, 2026)
        store.create(s, _decision(ROOM, "$b", outcome=DecisionOutcome.REJECTED))
        store.create(
            s,
            _decision(
                ROOM,
                "$c",
                kind=DecisionKind.CIRCULATION,
                outcome=DecisionOutcome.RUNNING,
                decided_at=None,
            ),
        )
        early, _ = store.create(s, _decision(OTHER, "$d", decided_at=AT - dt.timedelta(days=40)))
        store.number(s, early, 2026)
        s.commit()
    with db.session() as s:
        march = Window(None, AT - dt.timedelta(days=8), AT + dt.timedelta(days=1))
        rows = [(d.source_event_id, name) for d, name in store.in_window(s, march)]
        assert rows == [("$a", "Schulausschuss"), ("$b", "Schulausschuss")]
        # By room, then by the moment decided; the running circulation has no result yet.
        everything = [d.source_event_id for d, _ in store.in_window(s, Window())]
        assert everything == ["$d", "$a", "$b"]
        day = (AT, AT + dt.timedelta(days=1))
        assert [d.source_event_id for d in store.passed_between(s, *day, [ROOM, OTHER])] == ["$a"]
