"""The outbox on SQLite and PostgreSQL: no queue starves the others, and a room the bot
left has nothing more sent to it."""

from __future__ import annotations

import datetime as dt

from storage import outbox, rooms
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

BUSY = "!busy:example.org"
QUIET = "!quiet:example.org"
ANNA = "@anna:example.org"
NOW = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)


def _queue(db: Database, room: str | None, n: int, *, to_user: str | None = None) -> None:
    with db.session() as s:
        for i in range(n):
            outbox.enqueue(
                s,
                key=f"{room or to_user}:{i}",
                room_id=room,
                to_user=to_user,
                content={"msgtype": "m.notice", "body": f"{i}"},
            )


def _id(row: OutboxMessage) -> int:
    assert row.id is not None, "a stored row has its id"
    return row.id


def test_a_queue_of_thousands_leaves_room_for_every_other_queue(db: Database) -> None:
    _queue(db, BUSY, 300)  # stuck: e.g. a room the homeserver refuses
    _queue(db, QUIET, 2)
    _queue(db, None, 1, to_user=ANNA)
    with db.session() as s:
        batch = outbox.pending(s, per_queue=50)
    by_queue: dict[str, list[str]] = {}
    for row in batch:
        by_queue.setdefault(outbox.queue_key(row), []).append(row.content)
    assert len(by_queue[BUSY]) == 50
    assert len(by_queue[QUIET]) == 2
    assert len(by_queue[ANNA]) == 1
    # Oldest first within each queue.
    busy_ids = [_id(r) for r in batch if r.room_id == BUSY]
    assert busy_ids == sorted(busy_ids)


def test_queues_that_back_off_are_left_out_of_the_batch(db: Database) -> None:
    _queue(db, BUSY, 120)
    _queue(db, QUIET, 3)
    _queue(db, None, 2, to_user=ANNA)
    with db.session() as s:
        batch = outbox.pending(s, skip={BUSY, ANNA})
    assert {outbox.queue_key(r) for r in batch} == {QUIET}
    assert len(batch) == 3


def test_what_is_queued_for_a_room_the_bot_left_is_dropped_and_nothing_else(db: Database) -> None:
    with db.session() as s:
        rooms.ensure_room(s, BUSY, joined_at=NOW)
    _queue(db, BUSY, 4)
    _queue(db, QUIET, 1)
    with db.session() as s:
        assert outbox.drop_pending(s, BUSY) == 4
    with db.session() as s:
        left = [r for r in outbox.pending(s) if r.room_id == BUSY]
        assert left == []
        assert [r.room_id for r in outbox.pending(s)] == [QUIET]
        dropped = outbox.by_key(s, f"{BUSY}:0")
        assert dropped is not None
        assert dropped.status == OutboxStatus.DROPPED
