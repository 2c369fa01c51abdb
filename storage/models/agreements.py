"""Agreements (Verabredungen), their owners and their history."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class AgreementStatus(StrEnum):
    """Nothing is ever deleted by a command: cancelled is a status."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class HistoryAction(StrEnum):
    """What one history row records (`agreement.history.<action>` in the catalogue)."""

    CREATED = "created"
    DONE = "done"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    DUE_CHANGED = "due_changed"
    EDITED = "edited"
    CANCELLED = "cancelled"
    NOTE = "note"
    # The owner's one-line reason for a delay (`!grund`); the note holds it.
    REASON = "reason"


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
    # An AgreementStatus.
    status: str = Field(default=AgreementStatus.OPEN, max_length=16, index=True)
    due_date: dt.date | None = None
    due_time: dt.time | None = None
    created_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The command event that created it: a replayed event cannot record it twice.
    source_event_id: str = Field(max_length=255)
    # The latest reason given for a delay (`!grund N …`), shown by reports; the history
    # keeps every one.
    delay_reason: str | None = Field(default=None, sa_column=Column(Text))
    delay_reason_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # A measure taken on the evaluation of that year (`!auswertung maßnahme …`).
    measure_year: int | None = Field(default=None, index=True)


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
    # A HistoryAction.
    action: str = Field(max_length=32)
    old_value: str | None = Field(default=None, sa_column=Column(Text))
    new_value: str | None = Field(default=None, sa_column=Column(Text))
    # A comment with the change: the note of `!erledigt N notiz`, the reason of `!verwerfen`.
    note: str | None = Field(default=None, sa_column=Column(Text))
    source_event_id: str | None = Field(default=None, max_length=255)
