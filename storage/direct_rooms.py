"""Each member's direct-message room with the bot: created on first use, then reused."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from storage.models import DirectRoom


def get(db: Session, user_id: str) -> DirectRoom | None:
    return db.get(DirectRoom, user_id)


def remember(db: Session, user_id: str, room_id: str, *, at: dt.datetime) -> DirectRoom:
    """Record `room_id` as the member's direct-message room, replacing an earlier one."""
    row = db.get(DirectRoom, user_id)
    if row is None:
        row = DirectRoom(user_id=user_id, room_id=room_id, created_at=at)
    else:
        row.room_id = room_id
        row.created_at = at
    db.add(row)
    db.flush()
    return row


def by_room(db: Session, room_id: str) -> DirectRoom | None:
    """The member whose direct-message room with the bot this is, if it is one."""
    return db.exec(select(DirectRoom).where(DirectRoom.room_id == room_id)).first()


def is_direct_room(db: Session, room_id: str) -> bool:
    return by_room(db, room_id) is not None
