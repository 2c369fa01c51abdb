"""Who is what in a room: coordination (config), chair (power level or `!rolle`), member."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from commands.core.context import Role
from storage import agreements as agreement_store

CHAIR_POWER_LEVEL = 50


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
    if agreement_store.room_role(db, room_id, user_id) == agreement_store.CHAIR_ROLE:
        return Role.CHAIR  # set with `!rolle @person vorsitz`
    return Role.MEMBER
