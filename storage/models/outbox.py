"""Messages the bot owes, stored before they are sent."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"  # not yet confirmed by the homeserver: (re)sent
    SENT = "sent"
    FAILED = "failed"  # refused for good: never sent again
    DROPPED = "dropped"  # the bot left the room before it could be sent


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes the room; sent with a fixed transaction ID until confirmed."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("txn_id", name="uq_outbox_txn_id"),)

    id: int | None = Field(default=None, primary_key=True)
    txn_id: str = Field(max_length=128)
    room_id: str = Field(max_length=255, index=True)
    event_type: str = Field(default="m.room.message", max_length=128)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    sent_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    event_id: str | None = Field(default=None, max_length=255, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # What the message is about, so reactions and replies to it can act on that object.
    ref_kind: str | None = Field(default=None, max_length=32)
    ref_id: int | None = None
