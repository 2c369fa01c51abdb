"""Who is what in a room: coordination (config), chair (power level or `!rolle`), member."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlmodel import Session

from commands.core.context import Role
from storage import rooms

# Power levels (m.room.power_levels): from this one up a member counts as chair.
CHAIR_POWER_LEVEL = 50
# Room version 12 (MSC4289) gives creators unlimited power outside power_levels; they
# count with the highest level a canonical JSON integer can carry.
CREATOR_POWER_LEVEL = 2**53 - 1


def effective_role(
    db: Session,
    room_id: str,
    user_id: str,
    *,
    power_level: int,
    coordinators: Collection[str],
) -> Role:
    if user_id in coordinators:
        return Role.COORDINATION
    if power_level >= CHAIR_POWER_LEVEL:
        return Role.CHAIR
    if rooms.room_role(db, room_id, user_id) == rooms.CHAIR_ROLE:
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
