"""The outbox: every event the bot sends is stored first, then sent with a fixed txn ID.

A crash between sending and recording resends with the same transaction ID, which the
homeserver deduplicates; a failure leaves the row pending, so nothing is dropped.

Transaction IDs are keyed hashes of the effect keys (`txn_id_for`): a key often holds a
user ID ("survey:3:thanks:@anna:example.org"), and the database alone must not let anyone
hash a guessed user ID back to the messages sent to that member.

Rows are sent in queues: one per room, and one per member for direct messages (their room
is known only at send time), each queue in the order stored.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Insert, Integer, bindparam, exists, func, insert
from sqlalchemy import select as sql_select
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.db import keyed, secret_of
from storage.models import OutboxFile, OutboxKind, OutboxMessage, OutboxStatus, RefKind
from storage.types import utcnow


class UnknownTarget(LookupError):
    """A row refers to an effect key that no stored row has."""


def txn_id_for(key: str, secret: bytes) -> str:
    """The transaction ID of the effect stored under `key`: keyed with the database's
    secret (`storage.db.Database`), hex only, since event IDs in keys contain characters
    that do not belong in a URL path segment."""
    return "gb_" + keyed(secret, "outbox", key)[:40]


def _legacy_txn_id(key: str) -> str:
    """The unkeyed transaction ID rows stored before migration 0009 carry. They keep it
    (it is what the homeserver deduplicates a resend by, and the migration cannot key it:
    the key is not in the database); looking a key up tries it too, so that an edit or a
    poll end still finds a message sent before the upgrade. Retention deletes those rows
    once sent and no longer needed (`sent_outbox`), which ends this fallback's use."""
    return "gb_" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _txn_ids(db: Session, key: str) -> list[str]:
    return [txn_id_for(key, secret_of(db)), _legacy_txn_id(key)]


def _stored(db: Session, key: str) -> OutboxMessage | None:
    """The row stored under `key`, keyed or from before the keys (see `_legacy_txn_id`)."""
    stmt = select(OutboxMessage).where(col(OutboxMessage.txn_id).in_(_txn_ids(db, key)))
    return db.exec(stmt.order_by(col(OutboxMessage.id))).first()


# The parameter of `_insert_unless_stored` that holds the key's unkeyed transaction ID.
_LEGACY_TXN_ID = "legacy_txn_id"


@functools.cache
def _insert_unless_stored() -> Insert:
    """INSERT … SELECT the row's values (bound parameters named as the columns) unless a
    row has its transaction ID or the legacy one; built once, since building it takes
    longer than running it."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    names = [c.name for c in table.columns if c.name != "id"]
    taken = sql_select(col(OutboxMessage.id)).where(
        col(OutboxMessage.txn_id).in_([bindparam("txn_id"), bindparam(_LEGACY_TXN_ID)])
    )
    row = sql_select(*(bindparam(name, type_=table.c[name].type) for name in names))
    return insert(table).from_select(names, row.where(~exists(taken))).returning(table.c.id)


def enqueue(
    db: Session,
    *,
    key: str,
    room_id: str | None,
    content: dict[str, Any],
    event_type: str = "m.room.message",
    ref_kind: str | None = None,
    ref_id: int | None = None,
    kind: str = OutboxKind.REPLY,
    to_user: str | None = None,
    target_id: int | None = None,
    file_job: str | None = None,
) -> OutboxMessage:
    """Store an event to send; the same `key` twice stores it once.

    `room_id` None needs `to_user`: the event goes to that member's direct-message room.
    `file_job`: a file row whose file is made later by that job (see `file_jobs`).
    """
    if room_id is None and to_user is None:
        raise ValueError(f"{key}: a message needs a room or a member to go to")
    msg = OutboxMessage(
        txn_id=txn_id_for(key, secret_of(db)),
        room_id=room_id,
        event_type=event_type,
        content=json.dumps(content, ensure_ascii=False),
        ref_kind=ref_kind,
        ref_id=ref_id,
        kind=kind,
        to_user=to_user,
        target_id=target_id,
        file_job=file_job,
    )
    # One statement: stored unless a row has the key already (also one from before the
    # keyed IDs), which is then returned instead.
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(msg, c.name) for c in table.columns if c.name != "id"}
    values[_LEGACY_TXN_ID] = _legacy_txn_id(key)
    stmt = _insert_unless_stored()
    db.flush()  # the rows this session added are among those a key is looked up in
    new_id = db.execute(stmt, values).scalar_one_or_none()
    if new_id is None:
        existing = _stored(db, key)
        assert existing is not None
        return existing
    msg.id = new_id
    # What was inserted is known: the row joins the session as if read, without a read.
    make_transient_to_detached(msg)
    db.add(msg)
    return msg


def by_key(db: Session, key: str) -> OutboxMessage | None:
    """The row stored under an effect's key (an edit or a poll end names it)."""
    return _stored(db, key)


def target_of(db: Session, key: str) -> OutboxMessage:
    target = by_key(db, key)
    if target is None:
        raise UnknownTarget(f"no message was stored under the key {key!r}")
    return target


def attach_file(db: Session, msg_id: int, *, filename: str, mimetype: str, data: bytes) -> None:
    """Keep a file's bytes for the row until it is sent (once, however often called)."""
    if db.get(OutboxFile, msg_id) is None:
        db.add(
            OutboxFile(
                outbox_id=msg_id, filename=filename, mimetype=mimetype, size=len(data), data=data
            )
        )
        db.flush()


def file_of(db: Session, msg_id: int) -> OutboxFile | None:
    return db.get(OutboxFile, msg_id)


def file_jobs(db: Session, *, skip: Collection[int] = ()) -> list[OutboxMessage]:
    """Rows still owed whose file is still to be made, oldest first (but those in `skip`)."""
    stmt = select(OutboxMessage).where(
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        col(OutboxMessage.file_job).is_not(None),
    )
    if skip:
        stmt = stmt.where(col(OutboxMessage.id).not_in(list(skip)))
    return list(db.exec(stmt.order_by(col(OutboxMessage.id))))


def _waiting_for_file(db: Session, msg_id: int) -> OutboxMessage | None:
    msg = db.get(OutboxMessage, msg_id)
    if msg is None or msg.status != OutboxStatus.PENDING or msg.file_job is None:
        return None  # made already, or no longer owed (dropped, erased)
    return msg


def file_made(
    db: Session,
    msg_id: int,
    *,
    filename: str,
    mimetype: str,
    data: bytes,
    content: dict[str, Any],
) -> bool:
    """The row's file, made by its job, and its content completed (the file's size): the
    row may be sent now. False when it no longer waits for its file."""
    msg = _waiting_for_file(db, msg_id)
    if msg is None:
        return False
    attach_file(db, msg_id, filename=filename, mimetype=mimetype, data=data)
    msg.content = json.dumps(content, ensure_ascii=False)
    msg.file_job = None
    db.add(msg)
    return True


def file_failed(db: Session, msg_id: int, *, content: dict[str, Any]) -> bool:
    """The row's job failed: the row becomes the message `content` (a text saying so), in
    the file's place in its queue. False when it no longer waits for its file."""
    msg = _waiting_for_file(db, msg_id)
    if msg is None:
        return False
    msg.kind = OutboxKind.REPLY
    msg.content = json.dumps(content, ensure_ascii=False)
    msg.file_job = None
    db.add(msg)
    return True


def get(db: Session, msg_id: int) -> OutboxMessage | None:
    return db.get(OutboxMessage, msg_id)


def queue_key(msg: OutboxMessage) -> str:
    """What `pending(skip=…)` names a queue by: the member of a direct message, else the
    room (user IDs start with @, room IDs with !: they never collide)."""
    key = msg.to_user or msg.room_id
    assert key is not None
    return key


def pending(
    db: Session, *, skip: Collection[str] = (), per_queue: int = 50, limit: int = 1000
) -> list[OutboxMessage]:
    """The oldest pending rows of every queue but those in `skip` (see `queue_key`).

    At most `per_queue` of each: one queue holding thousands of messages must not keep
    every other queue's messages out of the batch the sender works on.
    """
    stmt = _pending_statement(bool(skip))
    values = {"per_queue": per_queue, "limit": limit, "skip": list(skip)}
    return list(db.exec(stmt, params=values))


@functools.cache
def _pending_statement(skipping: bool) -> SelectOfScalar[OutboxMessage]:
    """`pending`'s statement, built once (the sender asks it after every message)."""
    key = func.coalesce(OutboxMessage.to_user, OutboxMessage.room_id)
    waiting = sql_select(
        col(OutboxMessage.id).label("id"),
        func.row_number().over(partition_by=key, order_by=col(OutboxMessage.id)).label("n"),
    ).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
    if skipping:
        waiting = waiting.where(key.not_in(bindparam("skip", expanding=True)))
    ranked = waiting.subquery()
    return (
        select(OutboxMessage)
        .join(ranked, ranked.c.id == OutboxMessage.id)
        .where(ranked.c.n <= bindparam("per_queue"))
        .order_by(col(OutboxMessage.id))
        .limit(bindparam("limit", type_=Integer()))
    )


def pending_stats(db: Session) -> tuple[int, dt.datetime | None]:
    """How many messages are owed and when the oldest of them was stored."""
    count, oldest = db.exec(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            col(OutboxMessage.status) == OutboxStatus.PENDING
        )
    ).one()
    return count, oldest


def pending_of(db: Session, key: str, limit: int = 50) -> list[OutboxMessage]:
    """The oldest pending rows of one queue (see `queue_key`), in order."""
    return list(db.exec(_pending_of_statement(), params={"queue": key, "limit": limit}))


@functools.cache
def _pending_of_statement() -> SelectOfScalar[OutboxMessage]:
    """`pending_of`'s statement, built once: it is asked before every answer is sent."""
    return (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            func.coalesce(OutboxMessage.to_user, OutboxMessage.room_id) == bindparam("queue"),
        )
        .order_by(col(OutboxMessage.id))
        .limit(bindparam("limit", type_=Integer()))
    )


def set_room(db: Session, msg_id: int, room_id: str) -> None:
    """Fix the room a row goes to, before it is sent: a resend after a crash must go to
    the same room, or the homeserver could not recognise it as the same transaction."""
    msg = db.get(OutboxMessage, msg_id)
    if msg is not None and msg.room_id != room_id:
        msg.room_id = room_id
        db.add(msg)


def mark_sent(db: Session, msg_id: int, event_id: str, *, at: dt.datetime | None = None) -> None:
    msg = db.get(OutboxMessage, msg_id)
    if msg is None:
        return
    msg.status = OutboxStatus.SENT
    msg.event_id = event_id
    msg.sent_at = at or utcnow()
    db.add(msg)
    # The homeserver has the file now; the bot keeps no second copy (exports hold names).
    stored = db.get(OutboxFile, msg_id)
    if stored is not None:
        db.delete(stored)


def mark_attempt_failed(db: Session, msg_id: int, error: str, *, give_up: bool = False) -> None:
    msg = db.get(OutboxMessage, msg_id)
    if msg is None:
        return
    msg.attempts += 1
    msg.last_error = error[:2000]
    if give_up:
        msg.status = OutboxStatus.FAILED
    db.add(msg)


def find_by_event_id(db: Session, event_id: str) -> OutboxMessage | None:
    return db.exec(select(OutboxMessage).where(OutboxMessage.event_id == event_id)).first()


def rows_about(db: Session, ref_kind: RefKind, ref_id: int) -> list[OutboxMessage]:
    """Every message about one object (e.g. a poll's start in each member's DM room)."""
    stmt = select(OutboxMessage).where(
        OutboxMessage.ref_kind == ref_kind, OutboxMessage.ref_id == ref_id
    )
    return list(db.exec(stmt.order_by(col(OutboxMessage.id))))


def drop_pending(db: Session, room_id: str) -> int:
    """Give up what is still queued for a room the bot is no longer in."""
    rows = list(
        db.exec(
            select(OutboxMessage).where(
                OutboxMessage.room_id == room_id, OutboxMessage.status == OutboxStatus.PENDING
            )
        )
    )
    for row in rows:
        row.status = OutboxStatus.DROPPED
        db.add(row)
    return len(rows)
