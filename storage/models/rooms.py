"""Rooms the bot is in, their settings, and roles set in the chat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Room(SQLModel, table=True):
    __tablename__ = "room"

    room_id: str = Field(primary_key=True, max_length=255)
    # When the bot joined: older events are never acted on.
    joined_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    left_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    encrypted: bool = False
    # The room's own name (m.room.name), cleaned, on one line; None: none. Never what a
    # client derives from the members. Texts about several rooms name rooms by it.
    name: str | None = Field(default=None, max_length=255)


class RoomSetting(SQLModel, table=True):
    __tablename__ = "room_setting"

    room_id: str = Field(primary_key=True, foreign_key="room.room_id", max_length=255)
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class RoomRole(SQLModel, table=True):
    """Roles set with `!rolle` (chair); coordination comes from the config."""

    __tablename__ = "room_role"

    room_id: str = Field(foreign_key="room.room_id", primary_key=True, max_length=255)
    user_id: str = Field(primary_key=True, max_length=255)
    role: str = Field(max_length=16)
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
