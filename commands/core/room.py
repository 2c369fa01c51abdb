"""What the bot knows of a room beyond its messages: the language and time zone it speaks
(room settings, changed with `!einstellungen`), who is what in it (coordination from the
config, chair by power level or `!rolle`, member), and the greeting it hears once.

The runtime reads these for every event, and features for the rooms they post to; the
`general` feature declares the settings and the commands that show and change them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Role
from commands.core.rich import Rich
from storage import rooms
from storage.models import Room

# The room settings (storage.rooms) that hold the room's language and time zone.
LANGUAGE_KEY = "language"
TIMEZONE_KEY = "timezone"

# Power levels (m.room.power_levels): from this one up a member counts as chair.
CHAIR_POWER_LEVEL = 50
# Room version 12 (MSC4289) gives creators unlimited power outside power_levels; they
# count with the highest level a canonical JSON integer can carry.
CREATOR_POWER_LEVEL = 2**53 - 1


def room_language(db: Session, room_id: str, default: str) -> str:
    return rooms.get_setting(db, room_id, LANGUAGE_KEY) or default


def room_timezone(db: Session, room_id: str, default: str) -> ZoneInfo:
    return ZoneInfo(rooms.get_setting(db, room_id, TIMEZONE_KEY) or default)


def committee_zones(
    db: Session, default: ZoneInfo, committees: Sequence[Room] | None = None
) -> dict[str, ZoneInfo]:
    """Every committee room the bot is in (or the `committees` the caller read already),
    with its time zone: what reports count in."""
    settings = rooms.all_room_settings(db)
    found: dict[str, ZoneInfo] = {}
    for r in rooms.committee_rooms(db) if committees is None else committees:
        name = settings.get(r.room_id, {}).get(TIMEZONE_KEY)
        try:
            found[r.room_id] = ZoneInfo(name) if name else default
        except (ValueError, KeyError):  # a zone the system no longer knows
            found[r.room_id] = default
    return found


def effective_role(
    db: Session,
    room_id: str,
    user_id: str,
    *,
    power_level: int,
    coordinators: Collection[str],
) -> Role:
    if user_id in coordinators or power_level >= CHAIR_POWER_LEVEL:
        return role_of(user_id, None, power_level=power_level, coordinators=coordinators)
    stored = rooms.room_role(db, room_id, user_id)
    return role_of(user_id, stored, power_level=power_level, coordinators=coordinators)


def role_of(
    user_id: str, stored: str | None, *, power_level: int, coordinators: Collection[str]
) -> Role:
    """`effective_role` once the role stored with `!rolle` (`stored`) is known."""
    if user_id in coordinators:
        return Role.COORDINATION
    if power_level >= CHAIR_POWER_LEVEL:
        return Role.CHAIR
    if stored == rooms.CHAIR_ROLE:
        return Role.CHAIR  # set with `!rolle @person vorsitz`
    return Role.MEMBER


def chairs(
    db: Session,
    room_id: str,
    *,
    power_levels: Mapping[str, int],
    members: Mapping[str, str] | None,
) -> list[str]:
    """The room's chairs: joined members with power level 50 or more, and those made chair
    with `!rolle`."""
    by_level = [
        u
        for u, level in power_levels.items()
        if level >= CHAIR_POWER_LEVEL and (members is None or u in members)
    ]
    by_command = [r.user_id for r in rooms.room_roles(db, room_id) if r.role == rooms.CHAIR_ROLE]
    return sorted(set(by_level) | set(by_command))


def greeting(lang: str, prefix: str = "!") -> Rich:
    """What the bot says once when it joins a committee room: who it is, the three
    commands to start with, and where to read more (`!hilfe`)."""
    return i18n.t(lang, "greeting", prefix=prefix)
