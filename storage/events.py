"""What the bot has already seen: handled event IDs and the sync token."""

from __future__ import annotations

from sqlmodel import Session

from storage.models import ProcessedEvent, SyncState

SYNC_TOKEN = "next_batch"


def is_processed(db: Session, event_id: str) -> bool:
    return db.get(ProcessedEvent, event_id) is not None


def mark_processed(db: Session, event_id: str, room_id: str) -> None:
    if db.get(ProcessedEvent, event_id) is None:
        db.add(ProcessedEvent(event_id=event_id, room_id=room_id))


def get_state(db: Session, key: str) -> str | None:
    row = db.get(SyncState, key)
    return row.value if row else None


def set_state(db: Session, key: str, value: str) -> None:
    row = db.get(SyncState, key)
    if row is None:
        db.add(SyncState(key=key, value=value))
    else:
        row.value = value
        db.add(row)
