"""Messages the bot owes, stored before they are sent, and the files some of them carry."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"  # not yet confirmed by the homeserver: (re)sent
    SENT = "sent"
    FAILED = "failed"  # refused for good: never sent again
    DROPPED = "dropped"  # the bot left the room before it could be sent


class OutboxKind(StrEnum):
    """What the sender must finish before sending a row."""

    REPLY = "reply"
    POLL_START = "poll_start"
    POLL_END = "poll_end"  # learns its poll start's event ID
    EDIT = "edit"  # learns the event ID of the message it replaces
    FILE = "file"  # uploads its file first
    # A state event, put rather than sent: its content is {"state_key", "content"} and,
    # where it is merged into the room's current event at send time, "merge".
    STATE = "state"


class RefKind(StrEnum):
    """What a bot message is about (`ref_kind`), so a reaction or a reply to it finds its
    object; also the object kinds of `!später` (ReminderSnooze) and the retention's scrub."""

    AGREEMENT = "agreement"
    REMINDER = "reminder"
    POLL = "poll"
    SURVEY_STATEMENT = "survey"  # one statement of the annual survey, sent as a native poll
    SURVEY_TEXT = "survey-text"  # the survey's free question, answered by a plain reply
    MEETING = "meeting"
    # A decision (commands.procedure): a circulation's poll and messages, a Beschluss.
    DECISION = "decision"


class OutboxMessage(SQLModel, table=True):
    """An event the bot owes; sent with a fixed transaction ID until confirmed.

    Most rows are complete when stored. Some are finished by the sender at send time:
    a row for `to_user` learns its room (that member's direct-message room), a row with a
    `target_id` (an edit, a poll's end) learns the event ID its target became, a `file`
    row uploads its file first (and waits while its `file_job` is still to make it).
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("txn_id", name="uq_outbox_txn_id"),)

    id: int | None = Field(default=None, primary_key=True)
    txn_id: str = Field(max_length=128)
    # None until the sender resolved the direct-message room of `to_user`.
    room_id: str | None = Field(default=None, max_length=255, index=True)
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
    ref_kind: str | None = Field(default=None, max_length=32)  # a RefKind
    ref_id: int | None = None
    kind: str = Field(default=OutboxKind.REPLY, max_length=16)  # an OutboxKind
    # The member whose direct-message room this goes to; messages to one member keep order.
    to_user: str | None = Field(default=None, max_length=255, index=True)
    # The earlier row whose event this one relates to (an edit's original, a poll's start).
    target_id: int | None = Field(default=None, foreign_key="outbox.id")
    # A `file` row whose file is still to be made: the job (commands.core.file_jobs) as
    # JSON; None once made (or failed, the row then being the failure's answer).
    file_job: str | None = Field(default=None, sa_column=Column(Text))


class OutboxFile(SQLModel, table=True):
    """The bytes of a file the bot owes, apart from the outbox's JSON; dropped once sent."""

    __tablename__ = "outbox_file"

    outbox_id: int = Field(primary_key=True, foreign_key="outbox.id")
    filename: str = Field(max_length=255)
    mimetype: str = Field(max_length=255)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
