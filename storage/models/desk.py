"""The coordinator's desk: each room's rules of procedure with their history, the members'
offices, and the log of monthly reports posted for the leadership."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class RulesText(SQLModel, table=True):
    """One version of a room's rules of procedure (Geschäftsordnung), set in the chat.

    Nothing is overwritten: the newest row is the room's rules, the older ones are the
    history `!geschäftsordnung verlauf` shows.
    """

    __tablename__ = "rules_text"
    __table_args__ = (UniqueConstraint("source_event_id", name="uq_rules_text_source_event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=255, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source_event_id: str = Field(max_length=255)


class MemberOffice(SQLModel, table=True):
    """The office (Amt, Fachbereich) a member works for, as they or the chair said with
    `!amt`: the leadership report names offices, never people. Without a row, the config's
    `offices:` map decides."""

    __tablename__ = "member_office"

    user_id: str = Field(primary_key=True, max_length=255)
    office: str = Field(max_length=200)
    set_by: str = Field(max_length=255)
    set_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ReportLog(SQLModel, table=True):
    """A monthly report for the leadership that was queued: never posted twice."""

    __tablename__ = "report_log"
    __table_args__ = (UniqueConstraint("key", name="uq_report_log_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # "report:2026-02": also the outbox key of the message.
    key: str = Field(max_length=64)
    room_id: str = Field(max_length=255)
    # The first day of the month the report is about.
    period_start: dt.date
    posted_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
