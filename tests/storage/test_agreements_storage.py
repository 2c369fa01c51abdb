"""What each agreement command leaves in the database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from storage import agreements as store
from storage import rooms
from storage.db import Database
from storage.models import Agreement, AgreementHistory, AgreementOwner, ProcessedEvent, RoomRole
from storage.models import AgreementStatus as Status
from storage.models import HistoryAction as Action
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, ROOM, Dialog

NOW = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)


def agreement(db: Database, number: int, room: str = ROOM) -> Agreement:
    with db.session() as s:
        found = store.by_number(s, room, number)
        assert found is not None
        return found


def owners(db: Database, number: int) -> list[str]:
    a = agreement(db, number)
    with db.session() as s:
        assert a.id is not None
        return store.owners(s, a.id)


def history(db: Database, number: int) -> list[tuple[str, str, str | None, str | None, str | None]]:
    a = agreement(db, number)
    with db.session() as s:
        assert a.id is not None
        return [
            (h.actor, h.action, h.old_value, h.new_value, h.note) for h in store.history(s, a.id)
        ]


def snapshot(db: Database) -> tuple[list[Any], ...]:
    """Everything the agreement commands may write."""
    with db.session() as s:
        return (
            [
                (a.room_id, a.number, a.text, a.status, a.due_date, a.due_time, a.closed_at)
                for a in s.exec(select(Agreement).order_by(col(Agreement.id)))
            ],
            [
                (o.agreement_id, o.user_id, o.position)
                for o in s.exec(
                    select(AgreementOwner).order_by(
                        col(AgreementOwner.agreement_id), col(AgreementOwner.user_id)
                    )
                )
            ],
            [
                (h.id, h.action)
                for h in s.exec(select(AgreementHistory).order_by(col(AgreementHistory.id)))
            ],
            [(r.user_id, r.role) for r in s.exec(select(RoomRole))],
        )


# ------------------------------------------------------------------------------ record


def test_recording_stores_text_owners_in_order_due_date_and_its_source(dialog_both: Dialog) -> None:
    dialog_both.say(CARLA, "!verabredung Entwurf an Schulamt @ben @anna bis morgen 10 Uhr")
    a = agreement(dialog_both.database, 1)
    assert (a.text, a.status, a.created_by) == ("Entwurf an Schulamt", Status.OPEN, CARLA)
    assert (a.due_date, a.due_time) == (dt.date(2026, 3, 10), dt.time(10, 0))
    assert a.source_event_id == dialog_both.last_event_id
    assert a.created_at == NOW
    assert a.created_at.tzinfo is not None
    assert a.closed_at is None
    assert owners(dialog_both.database, 1) == [BEN, ANNA]
    assert history(dialog_both.database, 1) == [
        (CARLA, Action.CREATED, None, "Entwurf an Schulamt", None)
    ]


def test_replayed_event_records_the_agreement_only_once(db: Database) -> None:
    dialog = Dialog(db, _ids=itertools.repeat(7))  # every message is event $ev7
    first = dialog.text(ANNA, "!verabredung Raum buchen")
    # The bot's mark of handled events stops a replay before any command runs; without
    # it (say, a table restored from an older backup) the command itself records once.
    with db.session() as s:
        s.delete(s.get(ProcessedEvent, "$ev7"))
    again = dialog.text(ANNA, "!verabredung Raum buchen")
    assert first == again
    assert "#1" in again
    assert len(snapshot(db)[0]) == 1


def test_number_taken_meanwhile_is_retried_with_the_next_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = Dialog(db)
    dialog.say(ANNA, "!verabredung Erste")
    real = store._next_number
    calls: list[int] = []

    def stale_then_real(room_id: str) -> Any:
        calls.append(1)
        return 1 if len(calls) == 1 else real(room_id)  # as if #1 was not seen yet

    monkeypatch.setattr(store, "_next_number", stale_then_real)
    assert "#2" in dialog.text(BEN, "!verabredung Zweite")
    assert len(calls) == 2
    assert [row[1] for row in snapshot(db)[0]] == [1, 2]


def test_agreements_recorded_at_the_same_moment_get_distinct_numbers(
    postgresql_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real concurrency, on PostgreSQL (the bot runs SQLite from one database thread)."""
    db = postgresql_database
    room = f"!race{uuid.uuid4().hex[:8]}:example.org"
    with db.session() as s:
        rooms.ensure_room(s, room, joined_at=NOW)
    writers = 5
    barrier = threading.Barrier(writers, timeout=20)
    real = store._next_number
    first_call = threading.local()

    reads: list[int] = []

    def everyone_reads_the_same_maximum(room_id: str) -> Any:
        # The INSERT takes max+1 itself; reading it beforehand, as the INSERT's subquery
        # would, and waiting for all, makes every first INSERT try the same number at once.
        if getattr(first_call, "done", False):
            return real(room_id)
        first_call.done = True
        with db.session() as peek:
            n = peek.exec(select(real(room_id))).one()
        reads.append(n)
        barrier.wait()  # all writers have read max+1 before anyone inserts
        return n

    monkeypatch.setattr(store, "_next_number", everyone_reads_the_same_maximum)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with db.session() as s:
                store.record(
                    s,
                    room_id=room,
                    text=f"Aufgabe {i}",
                    owners=[ANNA],
                    due_date=None,
                    due_time=None,
                    actor=ANNA,
                    at=NOW,
                    source_event_id=f"$race{i}{room}",
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with db.session() as s:
        numbers = sorted(
            a.number for a in s.exec(select(Agreement).where(Agreement.room_id == room))
        )
    assert numbers == [1, 2, 3, 4, 5]
    assert reads.count(1) == writers  # all tried #1; the unique constraint sent four on


# ------------------------------------------------------------------------------ changes


def test_every_change_is_one_history_row_with_who_what_old_and_new(dialog_both: Dialog) -> None:
    d = dialog_both
    d.say(CARLA, "!verabredung Entwurf @ben bis nächsten Freitag")
    d.say(BEN, "!frist 1 Freitag nächste Woche")
    d.say(BEN, "!zuweisen 1 @anna @ben")
    d.say(ANNA, "!ändern 1 Entwurf an Schulamt")
    d.say(CARLA, "!notiz 1 Schulamt wartet")
    d.say(ANNA, "!erledigt 1 verschickt")
    d.say(CHAIR, "!wieder 1")
    d.say(BEN, "!verwerfen 1 doppelt")
    d.say(BEN, "!frist 1 ohne")
    assert history(d.database, 1) == [
        (CARLA, Action.CREATED, None, "Entwurf", None),
        (BEN, Action.DUE_CHANGED, "2026-03-13", "2026-03-20", None),
        (BEN, Action.ASSIGNED, BEN, f"{ANNA} {BEN}", None),
        (ANNA, Action.EDITED, "Entwurf", "Entwurf an Schulamt", None),
        (CARLA, Action.NOTE, None, None, "Schulamt wartet"),
        (ANNA, Action.DONE, Status.OPEN, Status.DONE, "verschickt"),
        (CHAIR, Action.REOPENED, Status.DONE, Status.OPEN, None),
        (BEN, Action.CANCELLED, Status.OPEN, Status.CANCELLED, "doppelt"),
        (BEN, Action.DUE_CHANGED, "2026-03-20", None, None),
    ]
    a = agreement(d.database, 1)
    assert (a.text, a.status, a.due_date) == ("Entwurf an Schulamt", Status.CANCELLED, None)
    assert a.closed_at == NOW
    assert owners(d.database, 1) == [ANNA, BEN]


def test_done_sets_and_reopen_clears_the_closing_time(dialog_both: Dialog) -> None:
    d = dialog_both
    d.say(ANNA, "!verabredung Raum buchen")
    d.say(ANNA, "!erledigt 1")
    assert agreement(d.database, 1).closed_at == NOW
    d.say(ANNA, "!wieder 1")
    a = agreement(d.database, 1)
    assert a.closed_at is None
    assert a.status == Status.OPEN


def test_checkmark_reaction_is_stored_like_done(dialog_both: Dialog) -> None:
    d = dialog_both
    [reply] = d.say(ANNA, "!verabredung Raum buchen @ben")
    assert reply.ref_id is not None
    d.react(BEN, "✅", ("agreement", reply.ref_id))
    assert agreement(d.database, 1).status == Status.DONE
    assert history(d.database, 1)[-1] == (BEN, Action.DONE, Status.OPEN, Status.DONE, None)


def test_due_time_round_trips(dialog_both: Dialog) -> None:
    dialog_both.say(ANNA, "!verabredung Anruf")
    dialog_both.say(ANNA, "!frist 1 Mittwoch um 11:15")
    a = agreement(dialog_both.database, 1)
    assert (a.due_date, a.due_time) == (dt.date(2026, 3, 11), dt.time(11, 15))
    assert history(dialog_both.database, 1)[-1][3] == "2026-03-11 11:15"


def test_role_set_by_command_is_stored_with_who_set_it(dialog_both: Dialog) -> None:
    dialog_both.say(CHAIR, "!rolle @ben vorsitz")
    with dialog_both.database.session() as s:
        row = s.get(RoomRole, (ROOM, BEN))
        assert row is not None
        assert (row.role, row.set_by, row.set_at) == (rooms.CHAIR_ROLE, CHAIR, NOW)
    dialog_both.say(CHAIR, "!rolle @ben mitglied")
    assert snapshot(dialog_both.database)[3] == [(BEN, rooms.MEMBER_ROLE)]


# ----------------------------------------------------------------------- bad input


BAD_INPUT = [
    (ANNA, "!verabredung"),
    (ANNA, "!verabredung @ben"),
    (ANNA, "!verabredung " + "x" * 2001),
    (ANNA, "!verabredung Raum bis Sankt Nimmerlein"),
    (ANNA, "!verabredung Raum bis 01.03.2026"),
    (ANNA, "!verabredung Raum @fremd"),
    (ANNA, "!erledigt 1"),  # not hers
    (BEN, "!erledigt abc"),
    (BEN, "!erledigt 99"),
    (BEN, "!zuweisen 1 @fremd"),
    (BEN, "!zuweisen 1"),
    (BEN, "!frist 1 irgendwann"),
    (BEN, "!frist 1 gestern"),
    (BEN, "!ändern 1"),
    (BEN, "!ändern 1 " + "y" * 2001),
    (BEN, "!notiz 1"),
    (ANNA, "!verwerfen 1"),
    (ANNA, "!rolle @anna vorsitz"),
    (CHAIR, "!rolle @anna koordination"),
    (BEN, "!liste quatsch"),
    (BEN, "!liste " + "9" * 30),
    (BEN, "!erledigt " + "9" * 5000),
    (BEN, "!erledigt 2147483648"),
]


@pytest.mark.parametrize(("sender", "body"), BAD_INPUT)
def test_bad_input_stores_nothing(dialog_both: Dialog, sender: str, body: str) -> None:
    dialog_both.say(CARLA, "!verabredung Entwurf @ben bis nächsten Freitag")
    before = snapshot(dialog_both.database)
    answer = dialog_both.text(sender, body)
    assert answer
    assert "Fehlercode" not in answer
    assert snapshot(dialog_both.database) == before


def test_failing_handler_rolls_back_what_it_wrote_before_failing(
    dialog_both: Dialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry's savepoint: owners written, then the history write fails."""
    dialog_both.say(CARLA, "!verabredung Entwurf @ben")
    before = snapshot(dialog_both.database)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_log", broken)
    assert "Fehlercode" in dialog_both.text(BEN, "!zuweisen 1 @anna")
    assert "Fehlercode" in dialog_both.text(BEN, "!verabredung Neu")
    assert snapshot(dialog_both.database) == before


# ----------------------------------------------------------------------------- queries


def test_list_query_sorts_by_due_date_with_undated_last_and_counts_all(db: Database) -> None:
    dialog = Dialog(db)
    dialog.say(ANNA, "!verabredung ohne Datum")
    dialog.say(ANNA, "!verabredung spät bis 20.12.")
    dialog.say(ANNA, "!verabredung früh bis morgen")
    dialog.say(ANNA, "!verabredung früh mit Uhrzeit bis morgen 9 Uhr")
    with db.session() as s:
        page = store.query(s, ROOM, limit=3)
        assert page.total == 4
        assert [a.text for a in page.items] == ["früh mit Uhrzeit", "früh", "spät"]
        rest = store.query(s, ROOM, limit=3, offset=3)
        assert [a.text for a in rest.items] == ["ohne Datum"]
        mine = store.query(s, ROOM, owner=ANNA, statuses=store.STATUSES)
        assert mine.total == 4
        assert store.query(s, ROOM, owner=BEN).total == 0
        later = NOW + dt.timedelta(days=1, hours=1)  # tomorrow 11:15
        overdue = store.query(s, ROOM, overdue_at=later)
        assert [a.text for a in overdue.items] == ["früh mit Uhrzeit"]


def test_list_query_counts_all_matches_on_any_page_also_past_the_end(db: Database) -> None:
    dialog = Dialog(db)
    for n in range(5):
        dialog.say(ANNA, f"!verabredung Punkt {n + 1}")
    with db.session() as s:
        assert store.query(s, ROOM, limit=2).total == 5
        last = store.query(s, ROOM, limit=2, offset=4)
        assert ([a.text for a in last.items], last.total) == (["Punkt 5"], 5)
        past = store.query(s, ROOM, limit=2, offset=6)
        assert (past.items, past.total) == ([], 5)
        assert store.query(s, "!leer:example.org", limit=2, offset=2).total == 0
