"""Tables of the foundation: rooms and their settings, sync state, handled events, outbox.

Later feature tables live in their own modules (storage/agreements.py, …) and are
imported by storage/schema.py so that metadata sees all of them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Room(SQLModel, table=True):
    __tablename__ = "room"

    room_id: str = Field(primary_key=True, max_length=255)
    # When the bot joined: older events are never acted on.
    joined_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    left_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    encrypted: bool = False


class RoomSetting(SQLModel, table=True):
    __tablename__ = "room_setting"

    room_id: str = Field(primary_key=True, foreign_key="room.room_id", max_length=255)
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=255)
    room_id: str = Field(max_length=255, index=True)
    processed_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes the room; sent with a fixed transaction ID until confirmed."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("txn_id", name="uq_outbox_txn_id"),)

    id: int | None = Field(default=None, primary_key=True)
    txn_id: str = Field(max_length=128)
    room_id: str = Field(max_length=255, index=True)
    event_type: str = Field(default="m.room.message", max_length=128)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
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


class Agreement(SQLModel, table=True):
    """An agreement (Verabredung) of a committee room; numbers count per room from 1."""

    __tablename__ = "agreement"
    __table_args__ = (
        UniqueConstraint("room_id", "number", name="uq_agreement_room_id_number"),
        UniqueConstraint("source_event_id", name="uq_agreement_source_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    # open | done | cancelled — nothing is ever deleted by a command.
    status: str = Field(default="open", max_length=16, index=True)
    due_date: dt.date | None = None
    due_time: dt.time | None = None
    created_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The command event that created it: a replayed event cannot record it twice.
    source_event_id: str = Field(max_length=255)


class AgreementOwner(SQLModel, table=True):
    __tablename__ = "agreement_owner"

    agreement_id: int = Field(foreign_key="agreement.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=255)
    # Owners are shown in the order they were named.
    position: int = 0


class AgreementHistory(SQLModel, table=True):
    """Every change: who, what, when, old and new value."""

    __tablename__ = "agreement_history"

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=255)
    # created | done | reopened | assigned | due_changed | edited | cancelled | note
    action: str = Field(max_length=32)
    old_value: str | None = Field(default=None, sa_column=Column(Text))
    new_value: str | None = Field(default=None, sa_column=Column(Text))
    # A comment with the change: the note of `!erledigt N notiz`, the reason of `!verwerfen`.
    note: str | None = Field(default=None, sa_column=Column(Text))
    source_event_id: str | None = Field(default=None, max_length=255)


class RoomRole(SQLModel, table=True):
    """Roles set with `!rolle` (chair); coordination comes from the config."""

    __tablename__ = "room_role"

    room_id: str = Field(foreign_key="room.room_id", primary_key=True, max_length=255)
    user_id: str = Field(primary_key=True, max_length=255)
    role: str = Field(max_length=16)
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
