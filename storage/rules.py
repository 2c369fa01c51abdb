"""Each room's rules of procedure (Geschäftsordnung) as set in the chat, with their history."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from storage.models import RulesText


def current(db: Session, room_id: str) -> RulesText | None:
    """The newest version set in the room, or None when nobody has set one."""
    stmt = (
        select(RulesText)
        .where(RulesText.room_id == room_id)
        .order_by(col(RulesText.set_at).desc(), col(RulesText.id).desc())
    )
    return db.exec(stmt).first()


def history(db: Session, room_id: str) -> list[RulesText]:
    """Every version, oldest first."""
    stmt = (
        select(RulesText)
        .where(RulesText.room_id == room_id)
        .order_by(col(RulesText.set_at), col(RulesText.id))
    )
    return list(db.exec(stmt))


def set_text(
    db: Session, room_id: str, text: str, *, set_by: str, at: dt.datetime, source_event_id: str
) -> tuple[RulesText, bool]:
    """Store a new version; (version, created). An event already stored stores nothing."""
    existing = db.exec(
        select(RulesText).where(RulesText.source_event_id == source_event_id)
    ).first()
    if existing is not None:
        return existing, False
    row = RulesText(
        room_id=room_id, text=text, set_by=set_by, set_at=at, source_event_id=source_event_id
    )
    db.add(row)
    db.flush()
    return row, True
