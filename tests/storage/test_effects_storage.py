"""Every effect kind in the outbox, on SQLite and PostgreSQL: keys, threads, rows that refer
to other rows, files apart from the JSON, direct-message rows and rooms, the migration."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text as sql
from sqlmodel import col, select

from bot.runtime.incoming import BotSettings, IncomingMessage, handle_message, queue_effects
from commands.core.defaults import Defaults
from commands.core.effects import AnyEffect, Edit, File, PollAnswer, PollEnd, PollStart, Reply
from commands.core.rich import mention, text
from commands.features import build_registry
from storage import direct_rooms, outbox, rooms
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import DirectRoom, OutboxFile, OutboxMessage

ROOM = "!gremium:example.org"
OTHER = "!andere:example.org"
ANNA = "@anna:example.org"
NOW = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)
SETTINGS = BotSettings(
    server_name="example.org",
    prefix="!",
    coordinators=frozenset(),
    registry=build_registry(),
    defaults=Defaults(),
)
POLL = PollStart(
    question="Zufrieden?", answers=(PollAnswer("a1", "ja"), PollAnswer("a2", "nein")), key="p:1"
)
CSV = b"Nr;Verabredung\n1;Bericht\n"


def _rows(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_a_command_in_a_thread_is_answered_in_that_thread(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=NOW - dt.timedelta(hours=1))
    msg = IncomingMessage(
        room_id=ROOM,
        event_id="$cmd",
        sender=ANNA,
        timestamp=NOW,
        body="!hilfe",
        thread_root="$root",
    )
    assert handle_message(db, msg, SETTINGS, lambda: NOW) == 1
    [row] = _rows(db)
    assert json.loads(row.content)["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$cmd"},
    }


def test_effects_are_stored_under_their_own_key_or_the_reply_key_of_their_cause(
    db: Database,
) -> None:
    effects = [Reply(text("eins")), Reply(text("zwei"), key="card:1"), Reply(text("drei"))]
    with db.session() as s:
        assert queue_effects(s, "$cmd", ROOM, effects) == 3
        # The same cause again (a replay) stores nothing new.
        queue_effects(s, "$cmd", ROOM, effects)
    rows = _rows(db)
    assert [r.txn_id for r in rows] == [
        outbox.txn_id_for("reply:$cmd:0", db.secret),
        outbox.txn_id_for("card:1", db.secret),
        outbox.txn_id_for("reply:$cmd:2", db.secret),
    ]
    assert {r.room_id for r in rows} == {ROOM}
    assert {r.kind for r in rows} == {"reply"}


def test_only_replies_for_the_commands_own_room_go_into_its_thread(db: Database) -> None:
    effects: list[AnyEffect] = [Reply(text("hier")), Reply(text("dort"), room_id=OTHER), POLL]
    with db.session() as s:
        queue_effects(s, "$cmd", ROOM, effects, thread_root="$root")
    here, there, poll = (json.loads(r.content) for r in _rows(db))
    assert here["m.relates_to"]["event_id"] == "$root"
    assert "m.relates_to" not in there
    assert poll["m.relates_to"]["rel_type"] == "m.thread"


def test_a_poll_end_refers_to_the_row_of_its_start_and_answers_in_its_form(
    db: Database,
) -> None:
    with db.session() as s:
        queue_effects(s, "$cmd", ROOM, [POLL])
    with db.session() as s:  # closed later, by another command
        queue_effects(s, "$close", ROOM, [PollEnd(poll_key="p:1", results=text("ja: 2"))])
        stable = PollStart(question="Q", answers=(PollAnswer("a", "A"),), key="p:2")
        queue_effects(s, "$cmd2", OTHER, [stable], stable_polls=True)
        queue_effects(s, "$close2", ROOM, [PollEnd(poll_key="p:2", results=text("A: 1"))])
    start, end, start2, end2 = _rows(db)
    assert start.event_type == "org.matrix.msc3381.poll.start"
    assert start.kind == "poll_start"
    assert end.event_type == "org.matrix.msc3381.poll.end"
    assert end.kind == "poll_end"
    assert end.target_id == start.id
    assert end.room_id == ROOM
    assert json.loads(end.content)["m.relates_to"] == {"rel_type": "m.reference"}
    assert start2.event_type == "m.poll.start"
    assert end2.event_type == "m.poll.end"
    # An end goes where its poll is, whichever room the closing command came from.
    assert end2.target_id == start2.id
    assert end2.room_id == OTHER


def test_an_edit_refers_to_the_original_message_even_after_another_edit(db: Database) -> None:
    with db.session() as s:
        queue_effects(
            s,
            "$cmd",
            ROOM,
            [
                Reply(text("alt"), key="card:7", notice=False),
                Edit(target_key="card:7", rich=text("neu"), key="card:7:edit:1"),
                Edit(target_key="card:7:edit:1", rich=text("neuer")),
            ],
        )
    original, first, second = _rows(db)
    assert first.target_id == second.target_id == original.id
    assert first.kind == "edit"
    assert first.event_type == "m.room.message"
    content = json.loads(second.content)
    assert content["msgtype"] == "m.text"  # as the original
    assert content["m.new_content"]["body"] == "neuer"


def test_an_effect_naming_an_unknown_message_is_dropped_and_the_rest_still_goes(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with db.session() as s:
        queued = queue_effects(
            s,
            "$cmd",
            ROOM,
            [
                Edit(target_key="never:stored", rich=text("x")),
                PollEnd(poll_key="never:stored", results=text("y")),
                Reply(text("trotzdem")),
            ],
        )
    assert queued == 1
    [row] = _rows(db)
    assert json.loads(row.content)["body"] == "trotzdem"
    assert "never:stored" in caplog.text


def test_a_file_keeps_its_bytes_apart_until_it_is_sent(db: Database) -> None:
    with db.session() as s:
        queue_effects(
            s, "$export", ROOM, [File(filename="liste.csv", data=CSV, mimetype="text/csv")]
        )
        queue_effects(  # stored once however often queued
            s, "$export", ROOM, [File(filename="liste.csv", data=CSV, mimetype="text/csv")]
        )
    [row] = _rows(db)
    assert row.kind == "file"
    assert row.id is not None
    assert "Bericht" not in row.content
    with db.session() as s:
        stored = outbox.file_of(s, row.id)
        assert stored is not None
        assert (stored.filename, stored.mimetype, stored.size) == (
            "liste.csv",
            "text/csv",
            len(CSV),
        )
        assert bytes(stored.data) == CSV
        outbox.mark_sent(s, row.id, "$file", at=NOW)
    with db.session() as s:
        assert s.exec(select(OutboxFile)).all() == []
        sent = outbox.find_by_event_id(s, "$file")
        assert sent is not None
        assert sent.kind == "file"


def test_a_direct_message_waits_for_its_room_and_keeps_the_members_order(db: Database) -> None:
    with db.session() as s:
        queue_effects(
            s,
            "$ev",
            ROOM,
            [
                Reply(text("Ihr Fragebogen"), to_user=ANNA, key="dm:1"),
                Edit(target_key="dm:1", rich=text("Ihr Fragebogen (erledigt)")),
                Reply(text("im Raum")),
            ],
        )
    dm, edit, in_room = _rows(db)
    assert dm.room_id is None
    assert dm.to_user == ANNA
    assert edit.to_user == ANNA
    assert edit.target_id == dm.id
    assert outbox.queue_key(dm) == outbox.queue_key(edit) != outbox.queue_key(in_room)
    assert dm.id is not None
    with db.session() as s:
        outbox.set_room(s, dm.id, "!dm:example.org")
    with db.session() as s:
        [pinned, *_] = outbox.pending(s)
        assert pinned.room_id == "!dm:example.org"
        # Still the member's queue: what follows for them waits behind it.
        assert outbox.queue_key(pinned) == outbox.queue_key(edit)


def test_each_member_has_one_direct_room_which_a_new_one_replaces(db: Database) -> None:
    with db.session() as s:
        assert direct_rooms.get(s, ANNA) is None
        direct_rooms.remember(s, ANNA, "!dm1:example.org", at=NOW)
    with db.session() as s:
        row = direct_rooms.get(s, ANNA)
        assert row is not None
        assert row.room_id == "!dm1:example.org"
        assert row.created_at == NOW
        later = NOW + dt.timedelta(days=3)
        direct_rooms.remember(s, ANNA, "!dm2:example.org", at=later)
    with db.session() as s:
        [only] = s.exec(select(DirectRoom)).all()
        assert (only.user_id, only.room_id) == (ANNA, "!dm2:example.org")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), db.session() as s:
        direct_rooms.remember(s, "@ben:example.org", "!dm2:example.org", at=NOW)


def test_a_message_needs_a_room_or_a_member(db: Database) -> None:
    with pytest.raises(ValueError, match="room or a member"), db.session() as s:
        outbox.enqueue(s, key="k", room_id=None, content={})


def test_messages_queued_before_the_migration_stay_replies_to_their_room(db: Database) -> None:
    downgrade(db.engine, "0003")
    try:
        with db.engine.begin() as conn:
            conn.execute(
                sql(
                    "INSERT INTO outbox (txn_id, room_id, event_type, content, status,"
                    " created_at, attempts) VALUES ('t1', :room, 'm.room.message',"
                    " '{\"body\": \"alt\"}', 'pending', :at, 0)"
                ),
                {"room": ROOM, "at": NOW.replace(tzinfo=None)},
            )
    finally:
        upgrade(db.engine)
    [row] = _rows(db)
    assert (row.room_id, row.kind, row.to_user, row.target_id) == (ROOM, "reply", None, None)


def test_mentions_survive_in_the_stored_content(db: Database) -> None:
    with db.session() as s:
        queue_effects(s, "$c", ROOM, [Reply(text("Hallo ") + mention(ANNA, "Anna"))])
    [row] = _rows(db)
    assert json.loads(row.content)["m.mentions"] == {"user_ids": [ANNA]}


def test_the_migrations_build_the_schema_the_models_declare(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
