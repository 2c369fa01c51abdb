"""SQLite: a second writer waits for the first instead of being refused. Another
connection (as the running bot would) holds the write lock for a second; `gremienbot
forget`, `gremienbot import` and a second `Database` then wait it out within the busy
timeout and succeed, also when they read before they write (with a deferred BEGIN SQLite
refuses that upgrade at once, whatever the busy timeout). Files, not :memory:, as in
production (WAL)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.cli import main
from storage import rooms
from storage.db import SQLITE_BUSY_TIMEOUT_MS, Database, sqlite_file
from storage.migrate import upgrade
from storage.models import Agreement, SyncState
from tests import seed
from tests.unit.test_export_cli import config_for

HOLD = 1.0  # seconds; well within the busy timeout
ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
AT = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)


@contextmanager
def write_lock_held(db: Database, seconds: float = HOLD) -> Iterator[None]:
    """Another connection holds `BEGIN IMMEDIATE` for `seconds`, then commits a row of its
    own (`sync_state` "holder"): a writer that read before that commit and then wrote would
    be refused. The block starts once the lock is taken."""
    path = sqlite_file(db.url)
    assert path is not None
    taken = threading.Event()
    failed: list[BaseException] = []

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            conn.execute("INSERT INTO sync_state (key, value) VALUES ('holder', 'x')")
            conn.execute("COMMIT")
        except BaseException as exc:
            failed.append(exc)
            taken.set()
        finally:
            conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(10)
        assert not failed
        yield
    finally:
        holder.join()
    assert not failed


def waited(start: float) -> float:
    return time.monotonic() - start


@pytest.fixture
def sqlite_file_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'gremienbot.db'}")
    upgrade(db.engine)
    yield db
    db.dispose()


def test_the_busy_timeout_outlasts_the_hold() -> None:
    assert SQLITE_BUSY_TIMEOUT_MS / 1000 > 2 * HOLD


def test_a_second_database_that_reads_then_writes_waits_and_sees_the_first_commit(
    sqlite_file_db: Database,
) -> None:
    second = Database(sqlite_file_db.url)
    try:
        with write_lock_held(sqlite_file_db):
            start = time.monotonic()
            with second.session() as s:
                seen = s.exec(select(func.count()).select_from(SyncState)).one()
                rooms.ensure_room(s, ROOM, joined_at=AT)
                s.add(SyncState(key="after", value=str(seen)))
            assert waited(start) > HOLD / 2
    finally:
        second.dispose()
    with sqlite_file_db.session(write=False) as s:
        # Serializable: the read came after the holder's commit, not before it.
        assert s.get(SyncState, "after") == SyncState(key="after", value="1")
        assert rooms.count_active(s) == 1


def test_a_reader_neither_waits_for_the_writer_nor_sees_its_uncommitted_row(
    sqlite_file_db: Database,
) -> None:
    with write_lock_held(sqlite_file_db):
        start = time.monotonic()
        with sqlite_file_db.session(write=False) as s:
            assert s.get(SyncState, "holder") is None
        assert waited(start) < HOLD / 2
    with sqlite_file_db.session(write=False) as s:
        assert s.get(SyncState, "holder") is not None


def test_a_savepoint_rolls_back_alone_in_an_immediate_transaction(
    sqlite_file_db: Database,
) -> None:
    with sqlite_file_db.session() as s:
        s.add(SyncState(key="kept", value="1"))
        savepoint = s.begin_nested()
        s.add(SyncState(key="undone", value="1"))
        s.flush()
        savepoint.rollback()
        with s.begin_nested():
            s.add(SyncState(key="released", value="1"))
    with sqlite_file_db.session(write=False) as s:
        assert {r.key for r in s.exec(select(SyncState))} == {"kept", "released"}


def test_forget_beside_a_writer_waits_and_erases(tmp_path: Path) -> None:
    config, db = config_for(tmp_path, "bot")
    try:
        assert main(["migrate", "-c", str(config)]) == 0
        with db.session() as s:
            seed.room(s, ROOM, joined_at=AT)
            seed.agreement(s, ROOM, "Bericht", by=ANNA, at=AT, owners=(ANNA,))
        with write_lock_held(db):
            start = time.monotonic()
            assert main(["forget", "-c", str(config), "--yes", ANNA]) == 0
            assert waited(start) > HOLD / 2
        with db.session(write=False) as s:
            [agreement] = s.exec(select(Agreement)).all()
            assert agreement.created_by != ANNA
    finally:
        db.dispose()


def test_import_beside_a_writer_waits_and_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, source_db = config_for(tmp_path, "source")
    target, db = config_for(tmp_path, "target")
    try:
        upgrade(source_db.engine)
        with source_db.session() as s:
            seed.room(s, ROOM, joined_at=AT)
            seed.agreement(s, ROOM, "Bericht", by=ANNA, at=AT, owners=(ANNA,))
        dump = tmp_path / "backup.json"
        assert main(["export", "-c", str(source), "--format", "json", "--out", str(dump)]) == 0
        assert main(["migrate", "-c", str(target)]) == 0
        with write_lock_held(db):
            start = time.monotonic()
            assert main(["import", "-c", str(target), str(dump)]) == 0, capsys.readouterr().err
            assert waited(start) > HOLD / 2
        assert "rows imported" in capsys.readouterr().out
        with db.session(write=False) as s:
            assert [a.text for a in s.exec(select(Agreement))] == ["Bericht"]
    finally:
        source_db.dispose()
        db.dispose()
