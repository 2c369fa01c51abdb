"""Rooms the bot is in, and their settings (language, time zone, reminder policy…).

A session keeps the settings of each room it has read (`get_settings`), until a setting
is changed or the session commits or rolls back (a savepoint too): one event's handling
reads them all in one statement, however many of them it needs (`facts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, String, bindparam, event, func, literal
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from storage.models import DirectRoom, Room, RoomRole, RoomSetting
from storage.text import one_line


def ensure_room(db: Session, room_id: str, *, joined_at: dt.datetime) -> Room:
    """Record the room once; the first join time is kept so old history stays ignored."""
    room = db.get(Room, room_id)
    if room is None:
        room = Room(room_id=room_id, joined_at=joined_at)
        db.add(room)
        db.flush()
    elif room.left_at is not None:
        room.left_at = None
        room.joined_at = joined_at
        db.add(room)
    return room


def get_room(db: Session, room_id: str) -> Room | None:
    return db.get(Room, room_id)


def mark_left(db: Session, room_id: str, *, at: dt.datetime) -> None:
    room = db.get(Room, room_id)
    if room is not None:
        room.left_at = at
        db.add(room)


def committee_rooms(db: Session) -> list[Room]:
    """The rooms the bot is in that are committees: not a member's direct-message room
    with the bot (a command written there gives that room a row too). Named ones first,
    by name, then the others by ID."""
    direct = select(DirectRoom.room_id)
    stmt = (
        select(Room)
        .where(col(Room.left_at).is_(None), col(Room.room_id).not_in(direct))
        .order_by(col(Room.name).is_(None), col(Room.name), col(Room.room_id))
    )
    return list(db.exec(stmt))


# The rooms' settings a session has read: Session.info[SETTINGS_INFO][room_id].
SETTINGS_INFO = "gremienbot.room_settings"


def _known_settings(db: OrmSession) -> dict[str, dict[str, str]]:
    known: dict[str, dict[str, str]] = db.info.setdefault(SETTINGS_INFO, {})
    return known


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_settings(db: OrmSession, *_: Any) -> None:
    # A rolled-back savepoint may have changed a setting that was read back inside it.
    db.info.pop(SETTINGS_INFO, None)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_settings_at_end(db: OrmSession, transaction: SessionTransaction) -> None:
    # Once the transaction is over, another may change them.
    if not transaction.nested:
        db.info.pop(SETTINGS_INFO, None)


def get_settings(db: Session, room_id: str) -> dict[str, str]:
    known = _known_settings(db)
    if room_id not in known:
        rows = db.exec(select(RoomSetting).where(RoomSetting.room_id == room_id))
        known[room_id] = {row.key: row.value for row in rows}
    return dict(known[room_id])


def get_setting(db: Session, room_id: str, key: str) -> str | None:
    return get_settings(db, room_id).get(key)


def set_setting(db: Session, room_id: str, key: str, value: str | None) -> None:
    _known_settings(db).pop(room_id, None)
    row = db.get(RoomSetting, (room_id, key))
    if value is None:
        if row is not None:
            db.delete(row)
        return
    if row is None:
        row = RoomSetting(room_id=room_id, key=key, value=value)
    else:
        row.value = value
    db.add(row)


@dataclass(frozen=True)
class RoomFacts:
    """What handling one event needs to know of its room, read in one statement."""

    # None: a room the database does not know yet.
    room: Room | None
    # When the bot made the room for one member (its direct-message room); None: no such.
    direct_since: dt.datetime | None
    # The role set with `!rolle` for the event's sender; None: none.
    role: str | None
    # The truth of each of the caller's `checks`, in their order.
    checks: tuple[bool, ...]


# The room and the sender in a `facts_query`: a caller's checks may use them too.
ROOM_ID: BindParameter[str] = bindparam("facts_room_id", type_=String())
USER_ID: BindParameter[str] = bindparam("facts_user_id", type_=String())


def facts_query(checks: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
    """The statement `facts` runs, for the caller's `checks` (e.g. storage.events.PROCESSED).

    Built once and kept by the caller: building it takes several times as long as running
    it. The checks are written with bound parameters (`ROOM_ID`, or their own), whose
    values `facts` is given. One row per setting of the room (at least one), each with
    the same room and answers."""
    direct = (
        sql_select(col(DirectRoom.created_at))
        .where(col(DirectRoom.room_id) == ROOM_ID)
        .limit(1)
        .scalar_subquery()
    )
    role = (
        sql_select(col(RoomRole.role))
        .where(col(RoomRole.room_id) == ROOM_ID, col(RoomRole.user_id) == USER_ID)
        .scalar_subquery()
    )
    # One row whatever the room has: the room and its settings are joined onto it.
    one = sql_select(literal(1).label("one")).subquery()
    return (
        sql_select(Room, direct, role, col(RoomSetting.key), col(RoomSetting.value), *checks)
        .select_from(one)
        .outerjoin(Room, col(Room.room_id) == ROOM_ID)
        .outerjoin(RoomSetting, col(RoomSetting.room_id) == ROOM_ID)
    )


def facts(
    db: Session,
    query: Select[Any],
    room_id: str,
    *,
    user_id: str,
    params: Mapping[str, Any] | None = None,
) -> RoomFacts:
    """The room, whether it is a direct-message room, the sender's role and the room's
    settings (kept for the session: `get_settings`), and the truth of the `facts_query`'s
    checks given their `params`, in one statement."""
    values = {ROOM_ID.key: room_id, USER_ID.key: user_id, **(params or {})}
    rows = db.execute(query, values).all()
    first = rows[0]
    _known_settings(db)[room_id] = {row[3]: row[4] for row in rows if row[3] is not None}
    return RoomFacts(
        room=first[0],
        direct_since=first[1],
        role=first[2],
        checks=tuple(bool(value) for value in first[5:]),
    )


# Roles stored in room_role.
CHAIR_ROLE = "chair"


MEMBER_ROLE = "member"


def room_role(db: Session, room_id: str, user_id: str) -> str | None:
    row = db.get(RoomRole, (room_id, user_id))
    return row.role if row else None


def room_roles(db: Session, room_id: str) -> list[RoomRole]:
    stmt = select(RoomRole).where(RoomRole.room_id == room_id).order_by(col(RoomRole.user_id))
    return list(db.exec(stmt))


def all_roles(db: Session) -> list[RoomRole]:
    """Every role set with `!rolle`, by room and person."""
    stmt = select(RoomRole).order_by(col(RoomRole.room_id), col(RoomRole.user_id))
    return list(db.exec(stmt))


def set_room_role(
    db: Session, room_id: str, user_id: str, role: str, *, set_by: str, at: dt.datetime
) -> str | None:
    """Store the role set with `!rolle`; returns the one stored before (None: none)."""
    row = db.get(RoomRole, (room_id, user_id))
    old = row.role if row else None
    if row is None:
        row = RoomRole(room_id=room_id, user_id=user_id, role=role, set_by=set_by, set_at=at)
    else:
        row.role, row.set_by, row.set_at = role, set_by, at
    db.add(row)
    db.flush()
    return old


def active_room_ids(db: Session) -> list[tuple[str, dt.datetime]]:
    rows = db.exec(select(Room).where(col(Room.left_at).is_(None)).order_by(col(Room.room_id)))
    return [(r.room_id, r.joined_at) for r in rows]


def count_active(db: Session) -> int:
    """Rooms the bot is in now (committees and members' direct-message rooms)."""
    return db.exec(select(func.count()).select_from(Room).where(col(Room.left_at).is_(None))).one()


def all_room_settings(db: Session) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for row in db.exec(select(RoomSetting)):
        found.setdefault(row.room_id, {})[row.key] = row.value
    return found


def remember_name(db: Session, room_id: str, name: str | None) -> None:
    """Store the room's current name (its `m.room.name`, cleaned and on one line, shortened
    to what the column holds) when it changed. None: not known now, the stored one stays;
    "": the room has no name (any more), the stored one goes."""
    room = get_room(db, room_id)
    if room is None or name is None:
        return
    name = one_line(name)[:NAME_LENGTH] or None
    if room.name != name:
        room.name = name
        db.add(room)


# What the room.name column holds.
NAME_LENGTH = 255
# How many characters of the room ID name a room that has no name.
ID_TAIL = 4


def shown_name(name: str | None) -> str | None:
    """A stored room name as texts show it: cleaned and on one line (names stored by an
    older version may be neither); None when nothing is left."""
    return one_line(name or "") or None


def id_tail(room_id: str) -> str:
    """The last characters of a room ID's own part ("!abcXyz:example.org" -> "cXyz"): what
    tells an unnamed room from another without showing a member's name."""
    local = room_id.split(":", 1)[0].lstrip("!")
    return local[-ID_TAIL:]


def room_label(db: Session, room_id: str) -> str:
    """How the command line and logs name a room: its name (cleaned, on one line), else its
    ID. Texts to members use commands.core.room_names, which names unnamed rooms in the
    reader's language."""
    room = get_room(db, room_id)
    return shown_name(room.name if room is not None else None) or room_id
