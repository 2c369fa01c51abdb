"""Offices and delay reasons in the database, on SQLite and PostgreSQL: an office set in the
chat wins over the config's, a reason is stored once per command, `gremienbot forget`
takes the person's office away, and a dump carries both."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel
from sqlmodel import select as sqlselect

from storage import agreements, dump, erasure
from storage import offices as store
from storage.db import Database
from storage.models import Agreement, AgreementHistory, HistoryAction, MemberOffice
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR

ROOM = "!schule:example.org"
OTHER = "!jugend:example.org"
AT = dt.datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)
CONFIG = {ANNA: "Amt 40 – Schulverwaltung", BEN: "Amt 51 – Jugendamt"}


def test_a_stored_office_wins_over_the_config_and_people_without_any_are_absent(
    db: Database,
) -> None:
    with db.session() as s:
        assert store.set_office(s, BEN, "Kämmerei", by=CHAIR, at=AT)
        assert store.set_office(s, CARLA, "Bildungsbüro", by=CARLA, at=AT)
    with db.session() as s:
        found = store.offices_of(s, [CARLA, ANNA, BEN, CHAIR, ANNA], CONFIG)
        assert found == {CARLA: "Bildungsbüro", ANNA: "Amt 40 – Schulverwaltung", BEN: "Kämmerei"}
        assert list(found) == [CARLA, ANNA, BEN]  # in the order asked
        assert store.offices_of(s, [], CONFIG) == {}
        assert store.all_offices(s, CONFIG) == {
            ANNA: "Amt 40 – Schulverwaltung",
            BEN: "Kämmerei",
            CARLA: "Bildungsbüro",
        }
        row = store.stored_office(s, BEN)
        assert row is not None
        assert (row.set_by, row.set_at) == (CHAIR, AT)


def test_setting_the_same_office_again_or_clearing_nothing_writes_nothing(db: Database) -> None:
    later = AT + dt.timedelta(days=1)
    with db.session() as s:
        assert store.set_office(s, ANNA, "Jugendamt", by=ANNA, at=AT)
        assert not store.set_office(s, ANNA, "Jugendamt", by=CHAIR, at=later)
        assert store.set_office(s, ANNA, "Schulamt", by=CHAIR, at=later)
    with db.session() as s:
        row = store.stored_office(s, ANNA)
        assert row is not None
        assert (row.office, row.set_by, row.set_at) == ("Schulamt", CHAIR, later)
        assert store.clear_office(s, ANNA)
        assert not store.clear_office(s, ANNA)
        # Cleared: the config's office counts again.
        assert store.offices_of(s, [ANNA], CONFIG) == {ANNA: "Amt 40 – Schulverwaltung"}


def _agreement(db: Database, room: str = ROOM, *, owners: tuple[str, ...] = (BEN,)) -> int:
    with db.session() as s:
        seed.room(s, room)
        a = seed.agreement(
            s, room, "Zahlen liefern", by=CARLA, at=AT, owners=owners, due=dt.date(2026, 3, 13)
        )
        assert a.id is not None
        return a.id


def test_a_reason_is_stored_once_per_command_with_its_predecessor_in_the_history(
    db: Database,
) -> None:
    agreement_id = _agreement(db)
    later = AT + dt.timedelta(days=7)
    with db.session() as s:
        a = s.get(Agreement, agreement_id)
        assert a is not None
        assert agreements.set_reason(s, a, "Landesamt", actor=BEN, at=AT, source_event_id="$1")
        # The same command again (a replayed event): nothing more.
        assert not agreements.set_reason(s, a, "Landesamt", actor=BEN, at=AT, source_event_id="$1")
        assert agreements.set_reason(
            s, a, "Landesamt im Januar", actor=BEN, at=later, source_event_id="$2"
        )
    with db.session() as s:
        a = s.get(Agreement, agreement_id)
        assert a is not None
        assert (a.delay_reason, a.delay_reason_at) == ("Landesamt im Januar", later)
        assert a.updated_at == later
        rows = [h for h in agreements.history(s, agreement_id) if h.action == HistoryAction.REASON]
        assert [(h.actor, h.old_value, h.note, h.source_event_id) for h in rows] == [
            (BEN, None, "Landesamt", "$1"),
            (BEN, "Landesamt", "Landesamt im Januar", "$2"),
        ]


def test_forget_deletes_the_persons_office_and_replaces_them_where_they_set_others(
    db: Database,
) -> None:
    agreement_id = _agreement(db)
    with db.session() as s:
        store.set_office(s, ANNA, "Jugendamt", by=ANNA, at=AT)
        store.set_office(s, BEN, "Kämmerei", by=ANNA, at=AT)
        a = s.get(Agreement, agreement_id)
        assert a is not None
        agreements.set_reason(s, a, f"wartet auf {ANNA}", actor=BEN, at=AT, source_event_id="$r")
    with db.session() as s:
        access = erasure.subject_access(s, ANNA, now=AT)
        assert {"member_office", "agreement"} <= set(access["tables"])
        done = erasure.erase(s, ANNA)
        assert done.counts["member_office: deleted"] == 1
        assert done.counts["member_office.set_by: pseudonym"] == 1
        assert done.counts["agreement.delay_reason: replaced in text"] == 1
    with db.session() as s:
        assert store.stored_office(s, ANNA) is None
        assert store.offices_of(s, [ANNA], {}) == {}
        ben = store.stored_office(s, BEN)
        assert ben is not None
        assert (ben.office, ben.set_by) == ("Kämmerei", "ehemaliges Mitglied 1")
        a = s.get(Agreement, agreement_id)
        assert a is not None
        assert a.delay_reason == "wartet auf ehemaliges Mitglied 1"
        [note] = [
            h.note for h in s.exec(sqlselect(AgreementHistory)) if h.action == HistoryAction.REASON
        ]
        assert note == "wartet auf ehemaliges Mitglied 1"


def _export(db: Database, room_ids: list[str] | None = None) -> str:
    out = io.StringIO()
    with db.engine.connect() as conn:
        dump.write_dump(conn, out, room_ids=room_ids)
    return out.getvalue()


def _empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def test_a_dump_carries_offices_and_reasons_and_restores_them(db: Database) -> None:
    agreement_id = _agreement(db)
    _agreement(db, OTHER, owners=(ANNA,))
    with db.session() as s:
        store.set_office(s, ANNA, "Schulamt", by=ANNA, at=AT)
        store.set_office(s, BEN, "Kämmerei", by=CHAIR, at=AT)
        store.set_office(s, CARLA, "Jugendamt", by=CARLA, at=AT)
        store.set_office(s, "@fremd:example.org", "Ordnungsamt", by=CHAIR, at=AT)
        a = s.get(Agreement, agreement_id)
        assert a is not None
        agreements.set_reason(s, a, "Landesamt", actor=BEN, at=AT, source_event_id="$r")
    first = _export(db)
    tables: dict[str, Any] = {t["name"]: t for t in json.loads(first)["tables"]}
    assert tables["member_office"]["count"] == 4
    _empty(db)
    dump.restore(db.engine, dump.read_dump(io.StringIO(first)))
    assert _export(db) == first
    with db.session() as s:
        assert store.all_offices(s, {}) == {
            ANNA: "Schulamt",
            BEN: "Kämmerei",
            CARLA: "Jugendamt",
            "@fremd:example.org": "Ordnungsamt",
        }
        a = s.get(Agreement, agreement_id)
        assert a is not None
        assert (a.delay_reason, a.delay_reason_at) == ("Landesamt", AT)
        count = s.execute(select(func.count()).select_from(MemberOffice)).scalar_one()
        assert count == 4
    # A dump of one room holds the offices of the people its agreements name (Ben owns,
    # Carla recorded), not those of other rooms' people or of nobody's.
    one = json.loads(_export(db, [ROOM]))
    rows = {t["name"]: t["rows"] for t in one["tables"]}
    assert sorted(r[0] for r in rows["member_office"]) == [BEN, CARLA]


def test_a_restore_puts_an_office_and_a_reason_on_one_line(db: Database) -> None:
    agreement_id = _agreement(db)
    with db.session() as s:
        store.set_office(s, BEN, "Kämmerei", by=CHAIR, at=AT)
        a = s.get(Agreement, agreement_id)
        assert a is not None
        agreements.set_reason(s, a, "Landesamt", actor=BEN, at=AT, source_event_id="$r")
    text = _export(db)
    text = text.replace('"Kämmerei"', '"Käm\\nmerei"').replace('"Landesamt"', '"Landes\\namt"', 1)
    _empty(db)
    dump.restore(db.engine, dump.read_dump(io.StringIO(text)))
    with db.session() as s:
        assert store.all_offices(s, {}) == {BEN: "Käm merei"}
        a = s.get(Agreement, agreement_id)
        assert a is not None
        assert a.delay_reason == "Landes amt"
