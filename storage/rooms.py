"""Rooms the bot is in, and their settings (language, time zone, reminder policy…)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from storage.models import Room, RoomSetting


def ensure_room(db: Session, room_id: str, *, joined_at: dt.datetime) -> Room:
    """Record the room once; the first join time is kept so old history stays ignored."""
    room = db.get(Room, room_id)
    if room is None:
        room = Room(room_id=room_id, joined_at=joined_at)
        db.add(room)
        db.flush()
    elif room.left_at is not None:
        room.left_at = None
        room.joined_at = joined_at
        db.add(room)
    return room


def get_room(db: Session, room_id: str) -> Room | None:
    return db.get(Room, room_id)


def mark_left(db: Session, room_id: str, *, at: dt.datetime) -> None:
    room = db.get(Room, room_id)
    if room is not None:
        room.left_at = at
        db.add(room)


def active_rooms(db: Session) -> list[Room]:
    return list(db.exec(select(Room).where(Room.left_at == None)))  # noqa: E711


def get_settings(db: Session, room_id: str) -> dict[str, str]:
    rows = db.exec(select(RoomSetting).where(RoomSetting.room_id == room_id))
    return {row.key: row.value for row in rows}


def get_setting(db: Session, room_id: str, key: str) -> str | None:
    row = db.get(RoomSetting, (room_id, key))
    return row.value if row else None


def set_setting(db: Session, room_id: str, key: str, value: str | None) -> None:
    row = db.get(RoomSetting, (room_id, key))
    if value is None:
        if row is not None:
            db.delete(row)
        return
    if row is None:
        row = RoomSetting(room_id=room_id, key=key, value=value)
    else:
        row.value = value
    db.add(row)
