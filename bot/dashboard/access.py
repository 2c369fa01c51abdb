"""Who may look at which committees on the dashboard: what the same person may see with
commands. The coordination (`coordination:` in the config) sees every committee; anyone
else the committee rooms where they are chair as commands decide it
(commands.core.room.role_of): power level 50 or more in the room, a creator of a room of
version 12 or later, or made chair with `!rolle`. Only rooms they are a joined member
of count: someone who left a committee no longer sees it. Nobody else sees anything.

Asked anew for every request, so a chair whose rights were taken back sees no more from
that moment on, whatever their bearer token says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping

from nio import AsyncClient, MatrixRoom
from sqlmodel import Session

from commands.core.context import Role
from commands.core.room import effective_role
from commands.features import Viewer
from storage import rooms

RoomLevels = Callable[[MatrixRoom], Awaitable[Mapping[str, int]]]


async def plain_levels(room: MatrixRoom) -> Mapping[str, int]:
    """The levels `m.room.power_levels` gives (without the creators of newer rooms)."""
    return {uid: room.power_levels.get_user_level(uid) for uid in room.users}


async def levels_of(
    client: AsyncClient | None,
    user_id: str,
    coordinators: Collection[str],
    room_levels: RoomLevels = plain_levels,
) -> dict[str, int]:
    """The user's power level in each room the bot's client knows them as a joined member
    of, as commands count it (`room_levels`: the bot's, which knows the creators of rooms
    of version 12 and later). Read in the event loop, which alone changes the client's
    rooms. The coordination's levels are never needed."""
    found: dict[str, int] = {}
    if client is None or user_id in coordinators:
        return found
    for room_id, room in list(client.rooms.items()):
        if user_id not in room.users or user_id in room.invited_users:
            continue
        found[room_id] = (await room_levels(room)).get(user_id, 0)
    return found


def viewer_of(
    db: Session, user_id: str, levels: Mapping[str, int], coordinators: Collection[str]
) -> Viewer | None:
    """What the user may see; None: nothing (neither coordination nor chair anywhere)."""
    if user_id in coordinators:
        return Viewer(user_id, Role.COORDINATION)
    committees = {r.room_id for r in rooms.committee_rooms(db)}
    chaired = frozenset(
        room_id
        for room_id, level in levels.items()
        if room_id in committees
        and effective_role(db, room_id, user_id, power_level=level, coordinators=coordinators)
        >= Role.CHAIR
    )
    return Viewer(user_id, Role.CHAIR, chaired) if chaired else None
