"""`gremienbot import` of a file someone else wrote: a hostile dump is refused with one
line and exit code 2 (never a traceback) and leaves the database empty; texts with
control or bidi characters come in cleaned, as chat input would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel
from sqlmodel import select as sqlselect

from bot.cli import main
from storage.db import Database
from storage.models import Agreement, AgreementHistory, Room
from tests.unit.test_export_cli import config_for, source  # noqa: F401  (the fixture)

Dump = dict[str, Any]


@pytest.fixture
def dumped(source: Path, tmp_path: Path) -> Dump:  # noqa: F811
    out = tmp_path / "backup.json"
    assert main(["export", "-c", str(source), "--format", "json", "--out", str(out)]) == 0
    data: Dump = json.loads(out.read_text("utf-8"))
    return data


def table(data: Dump, name: str) -> dict[str, Any]:
    [found] = [t for t in data["tables"] if t["name"] == name]
    return found


def set_value(data: Dump, name: str, column: str, value: Any, row: int = 0) -> None:
    t = table(data, name)
    index = [c["name"] for c in t["columns"]].index(column)
    t["rows"][row][index] = value


def add_row(data: Dump, name: str, **values: Any) -> None:
    t = table(data, name)
    t["rows"].append([values.get(c["name"]) for c in t["columns"]])
    t["count"] += 1


def rows_in(db: Database) -> int:
    with db.engine.connect() as conn:
        return sum(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
            if t.name != "alembic_version"
        )


def import_file(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, Database]:
    target, db = config_for(tmp_path, "target")
    assert main(["migrate", "-c", str(target)]) == 0
    capsys.readouterr()
    hostile = tmp_path / "hostile.json"
    hostile.write_text(content, "utf-8")
    code = main(["import", "-c", str(target), str(hostile)])
    return code, capsys.readouterr().err, db


def first_room(data: Dump) -> str:
    room_id: str = table(data, "room")["rows"][0][0]
    return room_id


HOSTILE: dict[str, Callable[[Dump], str]] = {
    "nested 100000 deep": lambda d: (
        '{"format": "gremienbot-dump", "tables": ' + "[" * 100_000 + "]" * 100_000 + "}"
    ),
    "a number of 5000 digits": lambda d: json.dumps(d).replace(
        '"version": 1', '"version": ' + "9" * 5000
    ),
    "NaN": lambda d: json.dumps(d).replace('"version": 1', '"version": NaN'),
}


def _mutated(change: Callable[[Dump], None]) -> Callable[[Dump], str]:
    def make(data: Dump) -> str:
        change(data)
        return json.dumps(data, ensure_ascii=False)

    return make


HOSTILE |= {
    "an agreement number beyond 64 bits": _mutated(
        lambda d: set_value(d, "agreement", "number", 10**30)
    ),
    "an agreement number beyond the column": _mutated(
        lambda d: set_value(d, "agreement", "number", 2**40)
    ),
    "a planted admin role": _mutated(
        lambda d: add_row(
            d,
            "room_role",
            room_id=first_room(d),
            user_id="@mallory:example.org",
            role="admin",
            set_by="@mallory:example.org",
            set_at="2026-01-01T00:00:00+00:00",
        )
    ),
    "a status no bot writes": _mutated(lambda d: set_value(d, "agreement", "status", "erased")),
    "the year 9999": _mutated(
        lambda d: set_value(d, "agreement", "created_at", "9999-12-31T23:59:59+14:00")
    ),
    "a room ID of 300 characters": _mutated(
        lambda d: set_value(d, "agreement", "source_event_id", "$" + "x" * 300)
    ),
    "a text as a nested list": _mutated(lambda d: set_value(d, "agreement", "text", [[["x"]]])),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_hostile_dump_is_refused_with_one_line_and_nothing_is_imported(
    dumped: Dump, tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    code, err, db = import_file(tmp_path, HOSTILE[attack](dumped), capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.strip().endswith("nothing was imported"), err
    assert len(err) < 600
    assert rows_in(db) == 0
    db.dispose()


def test_the_role_refusal_names_the_known_roles(
    dumped: Dump, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, db = import_file(tmp_path, HOSTILE["a planted admin role"](dumped), capsys)
    assert code == 2
    assert "table 'room_role'" in err
    assert "'admin' is none of chair, member" in err
    db.dispose()


def test_control_and_bidi_characters_come_in_cleaned(
    dumped: Dump, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_value(dumped, "agreement", "text", "Bericht\x00 an\u202e Schulamt\x1b[31m")
    set_value(dumped, "room", "name", "Schul\nausschuss\u2066")
    history = table(dumped, "agreement_history")
    index = [c["name"] for c in history["columns"]].index("note")
    history["rows"][0][index] = "Notiz\u202emit\x07Klingel"
    code, err, db = import_file(tmp_path, json.dumps(dumped, ensure_ascii=False), capsys)
    assert code == 0, err
    room_id = first_room(dumped)
    agreement_id = table(dumped, "agreement")["rows"][0][0]
    history_id = history["rows"][0][0]
    with db.session() as s:
        agreement = s.get(Agreement, agreement_id)
        assert agreement is not None
        assert agreement.text == "Bericht an Schulamt[31m"
        room = s.get(Room, room_id)
        assert room is not None
        assert room.name == "Schul ausschuss"
        note = s.exec(sqlselect(AgreementHistory.note).where(AgreementHistory.id == history_id))
        assert note.one() == "NotizmitKlingel"
    db.dispose()


def test_a_chair_role_in_the_file_is_shown_to_the_operator_to_check(
    dumped: Dump, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_row(
        dumped,
        "room_role",
        room_id=first_room(dumped),
        user_id="@mallory:example.org",
        role="chair",
        set_by="@mallory:example.org",
        set_at="2026-01-01T00:00:00+00:00",
    )
    target, db = config_for(tmp_path, "target")
    assert main(["migrate", "-c", str(target)]) == 0
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(dumped, ensure_ascii=False), "utf-8")
    capsys.readouterr()
    assert main(["import", "-c", str(target), str(planted)]) == 0
    shown = capsys.readouterr().out
    assert "check them" in shown
    assert f"@mallory:example.org chair in {first_room(dumped)}" in shown
    db.dispose()
