"""Many members in many rooms for the load scenarios: light members (plain HTTP) in plain
rooms, real nio members (end-to-end encryption) in encrypted rooms, and each room's history
as the homeserver keeps it, decrypted where needed."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from nio import MegolmEvent, RoomMessage, RoomMessagesResponse

from bot.devtools.light_member import LightMember, RoomEvent
from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import PASSWORD

# Many quick logins: the homeserver's password hashing would dominate the set-up otherwise.
FAST_LOGIN = {"bcrypt_rounds": 4}

T = TypeVar("T")


class Participant(Protocol):
    """What a scenario needs of a member: both Member and LightMember are one."""

    user_id: str

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        html_body: str | None = None,
        mentions: list[str] | None = None,
        reply_to: str | None = None,
    ) -> str: ...


@dataclass
class LoadRoom:
    room_id: str
    name: str
    encrypted: bool
    members: list[Participant]  # the first one created the room: its chair

    @property
    def chair(self) -> Participant:
        return self.members[0]


async def bounded(jobs: Sequence[Callable[[], Awaitable[T]]], limit: int = 8) -> list[T]:
    """Run the jobs, at most `limit` at a time; results in the jobs' order."""
    slots = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with slots:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


@dataclass
class Cast:
    """The members of a scenario and the rooms they sit in."""

    light: list[LightMember]
    nio: list[Member]
    rooms: list[LoadRoom]

    async def close(self) -> None:
        await asyncio.gather(*(m.close() for m in self.light), return_exceptions=True)
        await asyncio.gather(*(m.close() for m in self.nio), return_exceptions=True)


async def register(server: LocalSynapse, names: Sequence[str]) -> list[str]:
    return [await asyncio.to_thread(server.register, name, PASSWORD) for name in names]


async def build_cast(
    server: LocalSynapse,
    bot_user: str,
    store: Path,
    *,
    rooms: int,
    users: int,
    encrypted_rooms: int,
    per_encrypted_room: int = 3,
    prefix: str = "m",
) -> Cast:
    """`users` members, `rooms` rooms (the first `encrypted_rooms` of them encrypted); the
    bot is invited to every room and joins when it runs. Plain rooms share the light members
    round-robin, so some sit in two committees, as people do."""
    n_nio = encrypted_rooms * per_encrypted_room
    ids = await register(server, [f"{prefix}{i:03d}" for i in range(users)])
    nio = [Member(server.url, uid, PASSWORD, store / uid[1:].split(":")[0]) for uid in ids[:n_nio]]
    light = [LightMember(server.url, uid, PASSWORD) for uid in ids[n_nio:]]
    await bounded([m.login for m in light], limit=16)
    await bounded([m.login for m in nio], limit=4)

    cast = Cast(light, nio, [])
    for r in range(encrypted_rooms):
        group = nio[r * per_encrypted_room : (r + 1) * per_encrypted_room]
        others = tuple(m.user_id for m in group[1:])
        room_id = await group[0].create_room(
            f"Gremium {r}", encrypted=True, invite=(bot_user, *others)
        )
        await asyncio.gather(*(m.join(room_id) for m in group[1:]))
        cast.rooms.append(LoadRoom(room_id, f"Gremium {r}", True, list(group)))

    plain = rooms - encrypted_rooms
    if plain:
        per_room = max(2, -(-len(light) // plain) + 1)
        seats = itertools.cycle(light)
        for r in range(encrypted_rooms, rooms):
            # No member twice in one room (when there are few members).
            seated = list(dict.fromkeys(next(seats) for _ in range(per_room)))
            others = tuple(m.user_id for m in seated[1:])
            room_id = await seated[0].create_room(f"Gremium {r}", invite=(bot_user, *others))
            await bounded([partial(m.join, room_id) for m in seated[1:]])
            cast.rooms.append(LoadRoom(room_id, f"Gremium {r}", False, list(seated)))
    return cast


async def wait_until_bot_joined(cast: Cast, bot_user: str, timeout: float = 120) -> None:
    """Every room has the bot; in encrypted rooms every member knows every other member
    (and the bot), so the room keys of their messages reach everyone."""
    jobs: list[Callable[[], Awaitable[None]]] = []
    for room in cast.rooms:
        if room.encrypted:
            for m in room.members:
                assert isinstance(m, Member)
                others = [bot_user, *(o.user_id for o in room.members if o is not m)]
                jobs.extend(
                    partial(m.wait_for_member, room.room_id, uid, timeout) for uid in others
                )
        else:
            chair = room.chair
            assert isinstance(chair, LightMember)
            jobs.append(partial(chair.wait_for_member, room.room_id, bot_user, timeout))
    await bounded(jobs, limit=8)
    # Know the bot's device before the first encrypted message, or its room key misses it.
    for m in cast.nio:
        if m.client.should_query_keys:
            with contextlib.suppress(Exception):  # the member's own sync may be at it
                await m.client.keys_query()


async def nio_history(member: Member, room_id: str) -> list[RoomEvent]:
    """The room's messages read with /messages by a nio member, decrypted; oldest first."""
    found: list[RoomEvent] = []
    token: str | None = None
    while True:
        resp = await member.client.room_messages(room_id, start=token or "", limit=500)
        assert isinstance(resp, RoomMessagesResponse), resp
        for event in resp.chunk:
            found.extend(_room_event(member, room_id, event))
        if not resp.chunk or not resp.end or resp.end == token:
            break
        token = resp.end
    found.reverse()
    return found


def _room_event(member: Member, room_id: str, event: Any) -> list[RoomEvent]:
    if isinstance(event, MegolmEvent):
        try:
            event = member.client.decrypt_event(event)
        except Exception:
            return [RoomEvent(room_id, event.event_id, event.sender, "m.room.encrypted", {}, 0)]
    if not isinstance(event, RoomMessage):
        return []
    return [
        RoomEvent(
            room_id,
            event.event_id,
            event.sender,
            "m.room.message",
            dict(event.source.get("content") or {}),
            int(event.server_timestamp),
        )
    ]


async def history(room: LoadRoom) -> list[RoomEvent]:
    """What the room's chair reads back: every message, oldest first."""
    chair = room.chair
    if isinstance(chair, Member):
        return await nio_history(chair, room.room_id)
    assert isinstance(chair, LightMember)
    return await chair.messages(room.room_id)


async def histories(rooms: Sequence[LoadRoom]) -> dict[str, list[RoomEvent]]:
    found = await bounded([partial(history, r) for r in rooms], limit=8)
    return {room.room_id: events for room, events in zip(rooms, found, strict=True)}
