"""The JSON dump: a committee year exported, restored into an empty database and exported
again gives the same bytes; damaged, foreign or misplaced files are refused and leave the
database as it was. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel
from sqlmodel import select as sqlselect

from storage import agreements as store
from storage import dump
from storage.db import Database
from storage.models import Agreement, AgreementHistory, AgreementOwner, OutboxMessage, RoomSetting
from tests.dialog import ANNA
from tests.export_data import YEAR_START, fill_year


def export_json(db: Database, room_ids: list[str] | None = None) -> str:
    out = io.StringIO()
    with db.engine.connect() as conn:
        dump.write_dump(conn, out, room_ids=room_ids)
    return out.getvalue()


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def restore_text(db: Database, text: str) -> dump.Restored:
    return dump.restore(db.engine, dump.read_dump(io.StringIO(text)))


def test_a_year_exported_restored_into_an_empty_database_exports_to_the_same_bytes(
    db: Database,
) -> None:
    fill_year(db)
    before = counts(db)
    first = export_json(db)
    jsonschema.validate(json.loads(first), dump.load_schema())

    empty(db)
    restored = restore_text(db, first)

    assert export_json(db) == first
    assert counts(db) == before
    assert restored.rows["agreement_history"] == before["agreement_history"] > 500
    # The restored database goes on: new rows get new keys (PostgreSQL's sequences follow).
    with db.session() as s:
        a, created = store.record(
            s,
            room_id="!steuerung:example.org",
            text="Nach dem Umzug",
            owners=[ANNA],
            due_date=None,
            due_time=None,
            actor=ANNA,
            at=YEAR_START,
            source_event_id="$after-restore",
        )
        assert created
        assert a.number == 61


def test_the_dump_holds_the_record_and_not_the_bots_machine_state(db: Database) -> None:
    fill_year(db, per_room=3)
    data = json.loads(export_json(db))
    names = [t["name"] for t in data["tables"]]
    for record in ("room", "room_setting", "room_role", "agreement", "agreement_owner"):
        assert record in names
    assert "agreement_history" in names
    assert "reminder_log" in names
    for machine in ("processed_event", "sync_state", "scheduler_lease", "outbox", "direct_room"):
        assert machine not in names
    assert data["alembic_revision"]
    # Parents come before the tables that refer to them.
    assert names.index("room") < names.index("agreement") < names.index("agreement_history")


def test_a_dump_of_one_room_holds_only_that_rooms_agreements_owners_and_history(
    db: Database,
) -> None:
    fill_year(db, per_room=5)
    room = "!uebergang:example.org"
    data = json.loads(export_json(db, [room]))
    tables: dict[str, Any] = {t["name"]: t for t in data["tables"]}
    assert data["rooms"] == [room]
    assert [r[0] for r in tables["room"]["rows"]] == [room]
    with db.session() as s:
        ids = {a.id for a in s.exec(sqlselect(Agreement).where(Agreement.room_id == room))}
    assert {r[0] for r in tables["agreement"]["rows"]} == ids
    assert {r[0] for r in tables["agreement_owner"]["rows"]} <= ids
    assert {r[1] for r in tables["agreement_history"]["rows"]} == ids
    # A one-room dump restores as well.
    empty(db)
    restore_text(db, json.dumps(data))
    assert counts(db)["agreement"] == 5


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: text.replace('"count": 3,', '"count": 4,', 1), "header says"),
        (lambda text: '{"name": "gremienbot", "version": "0.1.0"}', "not a gremienbot dump"),
        (lambda text: "[1, 2, 3]", "not a gremienbot dump"),
        (lambda text: text.replace('"version": 1', '"version": 7', 1), "version 7"),
        (lambda text: text.replace('revision": "', 'revision": "x', 1), "revision"),
        (lambda text: text.replace('"room_setting"', '"bank_account"'), "not a table"),
        (lambda text: text.replace('"2026-', '"gestern-', 1), "row 1"),
    ],
    ids=["truncated", "count", "foreign", "array", "version", "revision", "table", "value"],
)
def test_a_damaged_or_foreign_file_is_refused_and_the_database_stays_empty(
    db: Database, damage: Any, reason: str
) -> None:
    fill_year(db, per_room=3)
    text = damage(export_json(db))
    empty(db)
    with pytest.raises(dump.DumpError, match=reason):
        restore_text(db, text)
    assert set(counts(db).values()) == {0}


def test_a_dump_the_database_refuses_halfway_leaves_nothing_behind(db: Database) -> None:
    fill_year(db, per_room=3)
    data = json.loads(export_json(db))
    # An owner twice: the database refuses the duplicate key after most rows went in.
    owners = next(t for t in data["tables"] if t["name"] == "agreement_owner")
    owners["rows"] = owners["rows"] + owners["rows"][:1]
    owners["count"] += 1
    empty(db)
    with pytest.raises(dump.DumpError, match="refused"):
        dump.restore(db.engine, data)
    assert set(counts(db).values()) == {0}


def _set(data: dict[str, Any], table: str, column: str, value: Any) -> None:
    entry = next(t for t in data["tables"] if t["name"] == table)
    entry["rows"][0][[c["name"] for c in entry["columns"]].index(column)] = value


@pytest.mark.parametrize(
    ("table", "column", "value", "reason"),
    [
        ("agreement", "number", 2**31, "outside -2147483648..2147483647"),
        ("agreement", "number", 10**30, "outside"),
        ("agreement", "created_at", "9999-12-31T23:59:59+14:00", "outside 1900..2199"),
        ("agreement", "due_date", "0001-01-01", "outside 1900..2199"),
        ("agreement", "status", "admin", "none of cancelled, done, open"),
        ("agreement", "source_event_id", "$" + "x" * 300, "at most 255"),
    ],
    ids=["int32", "huge", "year-9999", "year-1", "status", "long"],
)
def test_a_value_outside_its_column_is_refused_before_the_database_sees_it(
    db: Database, table: str, column: str, value: Any, reason: str
) -> None:
    fill_year(db, per_room=3)
    data = json.loads(export_json(db))
    _set(data, table, column, value)
    empty(db)
    with pytest.raises(dump.DumpError, match=f"table '{table}', row 1: {column}: .*{reason}"):
        dump.restore(db.engine, data)
    assert set(counts(db).values()) == {0}


def test_imported_texts_are_cleaned_like_chat_input(db: Database) -> None:
    fill_year(db, per_room=3)
    data = json.loads(export_json(db))
    _set(data, "agreement", "text", "Bericht\x00 an\u202e Schulamt\x1b")
    # A text holding JSON (as minutes and poll answers do): its escapes are characters to
    # whoever reads it.
    as_json = json.dumps({"title": "Sitzung\u202e", "people": [{"name": "Eva\x00"}]})
    assert "\\u202e" in as_json
    _set(data, "agreement_history", "note", as_json)
    empty(db)
    dump.restore(db.engine, data)
    text = export_json(db)
    for bad in ("\\u0000", "\\u202e", "\\u001b", "\u202e", "\x1b"):
        assert bad not in text
    assert "Bericht an Schulamt" in text


def test_a_database_with_records_is_not_overwritten_by_a_restore(db: Database) -> None:
    fill_year(db, per_room=3)
    text = export_json(db)
    before = counts(db)
    with db.session() as s:
        s.add(RoomSetting(room_id="!steuerung:example.org", key="x", value="y"))
    with pytest.raises(dump.DumpError, match="not empty"):
        restore_text(db, text)
    assert counts(db)["agreement"] == before["agreement"]
    assert counts(db)["room_setting"] == before["room_setting"] + 1


def test_machine_state_is_no_obstacle_to_a_restore(db: Database) -> None:
    """A freshly started bot has written its bookkeeping, but no record yet."""
    fill_year(db, per_room=2)
    text = export_json(db)
    empty(db)
    with db.session() as s:
        s.add(OutboxMessage(txn_id="t1", content="{}"))
    restore_text(db, text)
    assert counts(db)[AgreementOwner.__tablename__] > 0
    assert counts(db)[AgreementHistory.__tablename__] > 0
