"""The foundation's storage, on SQLite and PostgreSQL: schema, outbox, handled events."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect

from bot.runtime.incoming import BotSettings, IncomingMessage, handle_message
from commands.core.defaults import Defaults
from commands.features import build_registry
from storage import events, outbox, rooms
from storage.db import Database
from storage.migrate import (
    HEAD,
    current_revision,
    downgrade,
    head_revision,
    stored_revision,
    upgrade,
)
from storage.models import OutboxMessage, Room

ROOM = "!gremium:example.org"
NOW = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)
SETTINGS = BotSettings(
    server_name="example.org",
    prefix="!",
    coordinators=frozenset(),
    registry=build_registry(),
    defaults=Defaults(),
)


def _message(event_id: str, body: str, at: dt.datetime = NOW) -> IncomingMessage:
    return IncomingMessage(
        room_id=ROOM, event_id=event_id, sender="@anna:example.org", timestamp=at, body=body
    )


def test_schema_is_at_the_newest_revision(db: Database) -> None:
    assert current_revision(db.engine) == head_revision() == HEAD
    # What start-up reads without Alembic to skip an up-to-date database.
    assert stored_revision(db.engine) == HEAD
    tables = set(inspect(db.engine).get_table_names())
    assert {"room", "room_setting", "sync_state", "processed_event", "outbox"} <= tables


def test_command_is_handled_once_even_when_the_event_comes_again(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=NOW - dt.timedelta(hours=1))
    assert handle_message(db, _message("$a", "!hilfe"), SETTINGS, lambda: NOW) == 1
    assert handle_message(db, _message("$a", "!hilfe"), SETTINGS, lambda: NOW) == 0
    with db.session() as s:
        queued = outbox.pending(s)
        assert len(queued) == 1
        content = json.loads(queued[0].content)
        assert content["m.relates_to"]["m.in_reply_to"]["event_id"] == "$a"
        assert content["msgtype"] == "m.notice"


def test_history_from_before_the_join_is_never_acted_on(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=NOW)
    old = _message("$old", "!hilfe", at=NOW - dt.timedelta(minutes=5))
    assert handle_message(db, old, SETTINGS, lambda: NOW) == 0
    with db.session() as s:
        assert outbox.pending(s) == []
        assert events.is_processed(s, "$old")


def test_room_unknown_to_the_database_treats_earlier_messages_as_history(db: Database) -> None:
    earlier = _message("$e", "!hilfe", at=NOW - dt.timedelta(seconds=1))
    assert handle_message(db, earlier, SETTINGS, lambda: NOW) == 0
    later = _message("$l", "!hilfe", at=NOW + dt.timedelta(seconds=1))
    assert handle_message(db, later, SETTINGS, lambda: NOW) == 1


def test_outbox_stores_a_message_once_per_key_and_keeps_it_until_sent(db: Database) -> None:
    with db.session() as s:
        first = outbox.enqueue(s, key="reply:$x:0", room_id=ROOM, content={"body": "a"})
        again = outbox.enqueue(s, key="reply:$x:0", room_id=ROOM, content={"body": "a"})
        assert first.id == again.id
        assert first.txn_id == outbox.txn_id_for("reply:$x:0", db.secret)
    with db.session() as s:
        [msg] = outbox.pending(s)
        assert msg.id is not None
        outbox.mark_attempt_failed(s, msg.id, "connection refused")
    with db.session() as s:
        [msg] = outbox.pending(s)
        assert msg.attempts == 1
        assert msg.id is not None
        outbox.mark_sent(s, msg.id, "$sent", at=NOW)
    with db.session() as s:
        assert outbox.pending(s) == []
        found = outbox.find_by_event_id(s, "$sent")
        assert found is not None
        assert found.sent_at == NOW


def test_datetimes_come_back_aware_and_naive_ones_are_refused(db: Database) -> None:
    berlin = dt.datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=berlin)
    with db.session() as s:
        room = s.get(Room, ROOM)
        assert room is not None
        assert room.joined_at == berlin
        assert room.joined_at.tzinfo is not None
    with db.session() as s:
        s.add(
            OutboxMessage(
                txn_id="t", room_id=ROOM, content="{}", created_at=dt.datetime(2026, 1, 1)
            )
        )
        with pytest.raises(Exception, match="naive"):
            s.flush()
        s.rollback()


def test_sync_token_and_settings_survive_a_new_session(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=NOW)
        events.set_state(s, events.SYNC_TOKEN, "s1")
        events.set_state(s, events.SYNC_TOKEN, "s2")
        rooms.set_setting(s, ROOM, "language", "en")
    with db.session() as s:
        assert events.get_state(s, events.SYNC_TOKEN) == "s2"
        assert rooms.get_settings(s, ROOM) == {"language": "en"}
        rooms.set_setting(s, ROOM, "language", None)
    with db.session() as s:
        assert rooms.get_settings(s, ROOM) == {}


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db.engine)
    downgrade(db.engine, "base")
    assert current_revision(db.engine) is None
    assert stored_revision(db.engine) is None
    upgrade(db.engine, "0007")  # one behind: the start-up upgrade must not skip it
    assert stored_revision(db.engine) == "0007"
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    db.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.engine.connect() as conn:
        pragma = conn.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert pragma("PRAGMA busy_timeout").scalar() == 5000
    db.dispose()
