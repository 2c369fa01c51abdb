"""`storage.writes.collected`: the tables an event's handling wrote, which decide whether
the bot looks at the room's reminders again. Missing a write would leave a reminder
unplanned until the next hourly look, so the attack is the whole command language: every
example of every command's usage line, said by a member, the chair and the coordination,
must name in `collected` every table the database saw an INSERT, UPDATE or DELETE on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import delete, event, insert, update
from sqlmodel import select

from bot.runtime import events as bot_events
from storage import writes
from storage.db import Database
from storage.models import Agreement, Room, RoomSetting
from tests import seed
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, ROOM, Dialog

DML = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def test_orm_rows_and_statements_name_their_tables(db: Database) -> None:
    at = dt.datetime(2026, 3, 9, 9, tzinfo=dt.UTC)
    with writes.collected() as written, db.session() as s:
        s.add(Room(room_id=ROOM, joined_at=at))
        s.flush()
        s.execute(insert(RoomSetting).values(room_id=ROOM, key="language", value="de"))
        s.execute(update(RoomSetting).values(value="en"))
        list(s.exec(select(Agreement)))
    assert written == {"room", "room_setting"}
    with writes.collected() as written, db.session() as s:
        s.execute(delete(RoomSetting))
        room = s.get(Room, ROOM)
        assert room is not None
        room.name = "Schulausschuss"
        s.add(room)
    assert written == {"room", "room_setting"}


def test_reading_writes_nothing_and_outside_nothing_is_collected(db: Database) -> None:
    with db.session() as s:
        s.add(Room(room_id=ROOM, joined_at=dt.datetime(2026, 3, 9, tzinfo=dt.UTC)))
    with writes.collected() as written, db.session() as s:
        assert s.get(Room, ROOM) is not None
        list(s.exec(select(RoomSetting)))
    assert written == set()


@contextmanager
def dml_seen(database: Database) -> Iterator[set[str]]:
    """The tables the driver is asked to insert into, update or delete from."""
    seen: set[str] = set()

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if found := DML.match(statement):
            seen.add(found.group(1).lower())

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", note)


@pytest.mark.parametrize("speaker", [ANNA, CHAIR, COORDINATOR])
def test_every_write_of_every_command_is_collected(
    db: Database, speaker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = Dialog(db)
    with db.session() as s:
        seed.room(s, ROOM, joined_at=dialog.now - dt.timedelta(days=30))
        for n in range(6):
            seed.agreement(
                s,
                ROOM,
                f"Punkt {n + 1} vorbereiten",
                by=BEN,
                at=dialog.now - dt.timedelta(days=10),
                owners=[(ANNA, BEN, CARLA)[n % 3]],
                due=dialog.now.date() + dt.timedelta(days=n - 2),
            )
    # Per event the bot handled: the tables collected, and those the database saw.
    handled: list[tuple[set[str], set[str]]] = []
    real = writes.collected

    @contextmanager
    def kept() -> Iterator[set[str]]:
        with dml_seen(db) as seen, real() as found:
            yield found
        handled.append((found, seen))

    monkeypatch.setattr(bot_events.writes, "collected", kept)
    examples = [
        example
        for command in dialog.registry.commands
        for example in command.examples("de")
        if not command.hidden
    ]
    assert len(examples) > 60
    changed = 0
    for example in examples:
        handled.clear()
        dialog.say(speaker, example)
        assert handled, f"{example!r} was not handled"
        for found, seen in handled:
            missed = seen - found
            assert not missed, f"{example!r} by {speaker} wrote {sorted(missed)} unseen"
            changed += bool(found - bot_events.BOOKKEEPING)
    # Not all of them only read: the check above was put to the test.
    assert changed >= 10
