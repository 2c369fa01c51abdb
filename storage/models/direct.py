"""Each member's direct-message room with the bot."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class DirectRoom(SQLModel, table=True):
    """The room the bot uses for messages to one member only; replaced if the member left."""

    __tablename__ = "direct_room"
    __table_args__ = (UniqueConstraint("room_id", name="uq_direct_room_room_id"),)

    user_id: str = Field(primary_key=True, max_length=255)
    room_id: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
