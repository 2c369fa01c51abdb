"""`gremienbot forget` as the person's adversary checks it: afterwards nothing in the
database, its files, the operator's full dump or the coordination's exports names the
person, by user ID, by the ID's own part or by display name: no room name made from
them (older versions stored nio's computed name: the member for their direct-message
room, the member list for an unnamed committee room), no value left in a freed page or
in the write-ahead log. On SQLite (its files read byte by byte) and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sql_select
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.db
from bot.config import Config, DatabaseConfig, PrivacyConfig
from bot.forget import run_forget
from commands.core.defaults import Defaults
from commands.exports.run import FORMATS, export, make_scope
from commands.polls.config import poll_settings
from storage import direct_rooms, dump, rooms
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Room, RoomSetting
from tests.dialog import BEN, CARLA, CHAIR, COORDINATOR, Dialog

ZELDA = "@zelda.quast:example.org"
LOCALPART = "zelda.quast"
NAME = "Zelda Quirinus"
DM_ROOM = "!dmXq7Kp:example.org"
POLL_START = "org.matrix.msc3381.poll.start"
KEY = poll_settings(Defaults()).voter_key
NEEDLES = (ZELDA, LOCALPART, NAME, "zelda", "Quirinus")


def members() -> dict[str, str]:
    return {
        ZELDA: NAME,
        BEN: "Ben Okafor",
        CARLA: "Carla Weber",
        CHAIR: "Vorsitz Meyer",
        COORDINATOR: "Bildungsbüro",
    }


def zelda_in_the_committee(db: Database) -> Dialog:
    """Zelda in every place the bot keeps a person, and in room names an older version
    stored; one value naming her deleted before, without secure_delete."""
    dialog = Dialog(db, members=members())
    dialog.say(ZELDA, f"!verabredung Bericht an Schulamt {ZELDA} {BEN} bis Freitag")
    dialog.say(BEN, f"!notiz 1 Entwurf von {NAME} liegt vor")
    dialog.say(CHAIR, "!sitzung start Frühjahr")
    dialog.chat(ZELDA, "Guten Morgen")
    dialog.chat(BEN, "Hallo")
    dialog.say(CHAIR, "!sitzung ende")
    [poll] = [s for s in dialog.say(ZELDA, "!puls") if s.event_type == POLL_START]
    for who, value in ((ZELDA, "5"), (BEN, "4"), (CARLA, "2")):
        dialog.answer_poll(who, poll.event_id, (value,))
    now = dialog.now
    with db.session() as s:
        direct_rooms.remember(s, ZELDA, DM_ROOM, at=now)
        rooms.ensure_room(s, DM_ROOM, joined_at=now)
        for room_id, name in (
            (DM_ROOM, NAME),
            (dialog.room_id, f"{NAME}, Ben Okafor und 3 andere"),
        ):
            row = s.get(Room, room_id)
            assert row is not None
            row.name = name  # as nio computed it, stored by an older version
            s.add(row)
        s.add(RoomSetting(room_id=dialog.room_id, key="note", value=f"{NAME} " * 40))
    with db.session() as s:
        setting = s.get(RoomSetting, (dialog.room_id, "note"))
        s.delete(setting)
    return dialog


def config_for(db: Database, tmp_path: Path) -> Config:
    """The bot's config, its voter key on a volume of its own (privacy.voter_key_file)."""
    key_file = tmp_path / "keys" / "voter.key"
    key_file.parent.mkdir()
    key_file.write_bytes(KEY)
    return Config(
        homeserver="https://matrix.example.org",
        user_id="@gremienbot:example.org",
        password="x",  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        database=DatabaseConfig(url=db.url),
        privacy=PrivacyConfig(voter_key_file=key_file),
    )


def findings(blob: str | bytes) -> list[str]:
    data = blob.encode("utf-8") if isinstance(blob, str) else blob
    folded = data.lower()
    return [n for n in NEEDLES if n.encode("utf-8").lower() in folded]


def everything_exported(db: Database, now: dt.datetime) -> str:
    """The operator's full dump, and the coordination's exports (CSV sections unzipped)."""
    parts = []
    out = io.StringIO()
    with db.engine.connect() as conn:
        dump.write_dump(conn, out)
    parts.append(out.getvalue())
    with db.session() as s:
        scope = make_scope(room_ids=None, period=None, lang="de", tz=Defaults().zone, now=now)
        for fmt in ("csv", "md", "json", "ics"):
            raw = io.BytesIO()
            export(s, FORMATS[fmt], scope, raw, lambda what, rows: None)
            data = raw.getvalue()
            if data.startswith(b"PK"):
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    data = b"".join(z.read(n) for n in z.namelist())
            parts.append(data.decode("utf-8-sig", errors="replace"))
    return "\n".join(parts)


def every_row(db: Database) -> str:
    with db.session() as s:
        return "\n".join(
            json.dumps(dict(row), default=str, ensure_ascii=False)
            for table in SQLModel.metadata.sorted_tables
            for row in s.execute(sql_select(table)).mappings()
        )


@pytest.fixture
def sqlite_without_secure_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite as most builds ship it (Debian's turns secure_delete on by default): a
    deleted or overwritten value stays in the file's free space."""
    pragmas = storage.db._sqlite_pragmas

    def without(dbapi_conn: Any, record: Any) -> None:
        pragmas(dbapi_conn, record)
        dbapi_conn.execute("PRAGMA secure_delete=OFF")

    monkeypatch.setattr(storage.db, "_sqlite_pragmas", without)


@pytest.mark.usefixtures("sqlite_without_secure_delete")
def test_after_forget_no_byte_of_the_sqlite_files_names_the_person(tmp_path: Path) -> None:
    path = tmp_path / "gremienbot.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    dialog = zelda_in_the_committee(db)
    files = [path, path.with_name(path.name + "-wal")]
    before = b"".join(f.read_bytes() for f in files if f.exists())
    assert findings(before)  # the attack finds her before
    db.dispose()

    out = io.StringIO()
    assert run_forget(config_for(db, tmp_path), ZELDA, yes=True, out=out) == 0
    shown = out.getvalue()
    assert "poll_vote/survey_comment: cut loose" in shown  # the key was found apart
    assert "room.name: deleted: 2" in shown
    assert "Note:" not in shown  # the files were scrubbed completely

    after = b"".join(f.read_bytes() for f in files if f.exists())
    assert findings(after) == []
    assert findings(every_row(db)) == []
    assert findings(everything_exported(db, dialog.now)) == []
    with db.session() as s:
        # Her direct-message room and the committee read as unnamed rooms now.
        assert s.get(Room, DM_ROOM).name is None  # type: ignore[union-attr]
        assert s.get(Room, dialog.room_id).name is None  # type: ignore[union-attr]
    later = Dialog(db, members={}, _ids=itertools.count(1000))
    assert "Raum ohne Namen (…mium)" in later.text(COORDINATOR, "!übersicht")
    db.dispose()


def test_after_forget_no_table_export_or_dump_names_the_person(
    db: Database, tmp_path: Path
) -> None:
    dialog = zelda_in_the_committee(db)
    assert findings(every_row(db))
    out = io.StringIO()
    assert run_forget(config_for(db, tmp_path), ZELDA, yes=True, out=out) == 0
    assert findings(every_row(db)) == []
    assert findings(everything_exported(db, dialog.now)) == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_on_postgresql_forget_rewrites_the_tables_it_changed(
    postgresql_database: Database, tmp_path: Path, backend: str
) -> None:
    db = postgresql_database
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    zelda_in_the_committee(db)

    def filenode(table: str) -> int:
        with db.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT pg_relation_filenode('{table}')")).scalar_one())

    before = {t: filenode(t) for t in ("room", "agreement_owner", "meeting_attendee", "room")}
    out = io.StringIO()
    assert run_forget(config_for(db, tmp_path), ZELDA, yes=True, out=out) == 0
    # VACUUM (FULL) wrote each changed table anew: the dead row versions are gone with
    # the old files. What PostgreSQL keeps beyond, the output says.
    assert all(filenode(t) != node for t, node in before.items())
    assert "Note: PostgreSQL's write-ahead log (pg_wal)" in out.getvalue()
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
