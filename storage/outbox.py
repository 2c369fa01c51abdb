"""The outbox: every message the bot sends is stored first, then sent with a fixed txn ID.

A crash between sending and recording resends with the same transaction ID, which the
homeserver deduplicates; a failure leaves the row pending, so nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlmodel import Session, col, select

from storage.models import OutboxMessage, OutboxStatus
from storage.types import utcnow


def txn_id_for(key: str) -> str:
    # Event IDs contain characters that do not belong in a URL path segment.
    return "gb_" + hashlib.sha256(key.encode()).hexdigest()[:40]


def enqueue(
    db: Session,
    *,
    key: str,
    room_id: str,
    content: dict[str, Any],
    event_type: str = "m.room.message",
    ref_kind: str | None = None,
    ref_id: int | None = None,
) -> OutboxMessage:
    """Store a message to send; the same `key` twice stores it once."""
    txn_id = txn_id_for(key)
    existing = db.exec(select(OutboxMessage).where(OutboxMessage.txn_id == txn_id)).first()
    if existing is not None:
        return existing
    msg = OutboxMessage(
        txn_id=txn_id,
        room_id=room_id,
        event_type=event_type,
        content=json.dumps(content, ensure_ascii=False),
        ref_kind=ref_kind,
        ref_id=ref_id,
    )
    db.add(msg)
    db.flush()
    return msg


def pending(db: Session, limit: int = 100) -> list[OutboxMessage]:
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(db.exec(stmt))


def mark_sent(db: Session, msg_id: int, event_id: str, *, at: dt.datetime | None = None) -> None:
    msg = db.get(OutboxMessage, msg_id)
    if msg is None:
        return
    msg.status = OutboxStatus.SENT
    msg.event_id = event_id
    msg.sent_at = at or utcnow()
    db.add(msg)


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
