"""What the bot has already seen: handled event IDs and the sync token.

An event of a member's direct-message room with the bot (a survey answer, an anonymous
pulse's vote, a free text) is recorded without its room and under a keyed hash of its ID
(`storage.db.keyed`, the database's secret, which is not in the database), on the day it
was handled rather than the moment: the record is written in the transaction that stores
the answer, so a plain event ID, the room (which `direct_room` ties to the member) or the
exact time would tell whoever holds the database or a backup whose answer it was, and
when. Nothing needs more: the records only keep an event from being handled twice, and
retention deletes them by age in days; no catch-up pages back to a room's last handled
event (the sync token and paging back from `prev_batch` do that), so a record without its
room loses nothing. Events of committee rooms keep their plain ID and room.
"""

from __future__ import annotations

from sqlalchemy import bindparam, exists, insert
from sqlmodel import Session, col, select

from storage import direct_rooms
from storage.db import keyed, secret_of
from storage.models import ProcessedEvent, SyncState
from storage.types import utcnow

SYNC_TOKEN = "next_batch"
# The room of a record of a direct-message room's event: none.
NO_ROOM = ""


def _hidden(db: Session, event_id: str) -> str:
    return keyed(secret_of(db), "event", event_id)


# Whether the event was handled, as an SQL truth value: a column of a bigger query
# (storage.rooms.facts_query), so that checking it costs no statement of its own. Its
# values: `processed_params`.
PROCESSED = exists().where(
    col(ProcessedEvent.event_id).in_([bindparam("processed_id"), bindparam("processed_hidden")])
)


def processed_params(db: Session, event_id: str) -> dict[str, str]:
    """The values of `PROCESSED`'s parameters for one event (as stored, or keyed)."""
    return {"processed_id": event_id, "processed_hidden": _hidden(db, event_id)}


def is_processed(db: Session, event_id: str) -> bool:
    ids = [event_id, _hidden(db, event_id)]
    stmt = select(ProcessedEvent.event_id).where(col(ProcessedEvent.event_id).in_(ids))
    return db.exec(stmt).first() is not None


_MARK = insert(ProcessedEvent).values(
    event_id=bindparam("event_id"),
    room_id=bindparam("room_id"),
    processed_at=bindparam("processed_at"),
)


def mark_processed(
    db: Session, event_id: str, room_id: str, *, direct: bool | None = None, new: bool = False
) -> None:
    """Record the event as handled. `direct`: whether its room is a member's
    direct-message room, when the caller knows (else looked up); `new`: the caller saw in
    this transaction that the event is not marked and has not marked it since (else
    looked up, so that marking twice stores it once)."""
    if direct is None:
        direct = direct_rooms.is_direct_room(db, room_id)
    now = utcnow()
    if direct:
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        row = {"event_id": _hidden(db, event_id), "room_id": NO_ROOM, "processed_at": day}
    else:
        row = {"event_id": event_id, "room_id": room_id, "processed_at": now}
    if new or db.get(ProcessedEvent, row["event_id"]) is None:
        # A plain INSERT: one per event handled, and an ORM row costs several times more.
        db.execute(_MARK, row)


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
