"""How the bot's texts name a room: its `m.room.name` only (never a name computed from its
members, which for a member's direct-message room is that member's name), cleaned and on
one line so that a name cannot add lines of its own to the bot's texts; a room without a
name is "Raum ohne Namen (…abc)" with the last characters of its ID."""

from __future__ import annotations

from sqlmodel import Session

from commands.core import i18n
from storage import rooms


def room_name(lang: str, room_id: str, name: str | None) -> str:
    """The room's name as stored (`name`), as texts in `lang` show it."""
    return rooms.shown_name(name) or i18n.plain(lang, "room.unnamed", tail=rooms.id_tail(room_id))


def room_label(db: Session, room_id: str, lang: str) -> str:
    """The name of the room `room_id`, as texts in `lang` show it."""
    room = rooms.get_room(db, room_id)
    return room_name(lang, room_id, room.name if room is not None else None)
