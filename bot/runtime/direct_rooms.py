"""Each member's direct-message room with the bot: found, or made on first use.

A new room is what Element makes for a DM: `is_direct`, the member invited, encrypted from
its first event (`m.room.encryption` in the initial state), and listed in the bot's
`m.direct` account data so that Element shows it under "People". Unlike Element's, the
member gets no power in it (power level 0, inviting needs 100): they can write and answer
polls, but cannot invite anyone else into it. The room is remembered in the database and
reused only while it is private: the bot and the member, joined or invited, and nobody
else. Once the member (or the bot) has left it, or anyone else is in it or invited (a room
made before this rule, or by a homeserver admin), the next message makes a new one.

Messages go out while the member is still only invited: the room keys are shared with the
devices of invited members too, so they can read them once they join.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from nio import (
    AsyncClient,
    Event,
    LocalProtocolError,
    RoomCreateResponse,
    RoomEncryptionEvent,
    RoomGetStateResponse,
    RoomMemberEvent,
    RoomPreset,
)

from bot.crypto.crosssigning import MatrixApi
from bot.runtime.dbthread import DbThread
from storage import direct_rooms
from storage.db import Database

log = logging.getLogger(__name__)

ENCRYPTION_STATE = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
# The `private_chat` preset leaves the invited member at the users' default power level
# (0): messages and poll responses (events_default 0) but no state (state_default 50).
# Inviting is raised above anything but the bot's own level.
POWER_LEVELS = {"invite": 100}


class DirectRoomError(Exception):
    """The homeserver refused to make the room."""


class DirectRooms:
    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        *,
        clock: Callable[[], dt.datetime],
        sync_wait: float = 15.0,
    ) -> None:
        self.db = db
        self.dbt = dbt
        self.clock = clock
        self.sync_wait = sync_wait
        # One room made at a time: m.direct is read, changed and written back.
        self._lock = asyncio.Lock()
        # Made by this process, not yet seen in a sync (nio knows a room only from syncs).
        self._unsynced: set[str] = set()

    async def room_for(self, client: AsyncClient, user_id: str) -> str | None:
        """The member's direct-message room, ready to send into; None: not yet (the new
        room has not come through the sync yet, or the member just left), try again."""
        async with self._lock:
            room_id = await self._current_or_new(client, user_id)
        if not await self._ready(client, room_id, user_id):
            return None
        # Encrypting for the member needs their devices; the sync loop may not have asked yet.
        if client.should_query_keys:
            with contextlib.suppress(LocalProtocolError):
                await client.keys_query()
        return room_id

    async def _current_or_new(self, client: AsyncClient, user_id: str) -> str:
        known = await self.dbt.run_until_answered(self._stored, user_id)
        if known is not None:
            if known in self._unsynced or _private(client, known, user_id):
                return known
            log.info(
                "the direct-message room %s of %s is no longer the two of them: making a new one",
                known,
                user_id,
            )
        room_id = await self._create(client, user_id)
        if known is not None:
            with contextlib.suppress(Exception):
                await client.room_leave(known)
        return room_id

    async def _create(self, client: AsyncClient, user_id: str) -> str:
        resp = await client.room_create(
            is_direct=True,
            invite=[user_id],
            preset=RoomPreset.private_chat,
            initial_state=[ENCRYPTION_STATE],
            power_level_override=POWER_LEVELS,
        )
        if not isinstance(resp, RoomCreateResponse):
            raise DirectRoomError(f"could not make a direct-message room for {user_id}: {resp}")
        room_id = resp.room_id
        # Remembered at once: a crash from here on reuses this room instead of making another.
        await self.dbt.run_until_answered(self._remember, user_id, room_id)
        self._unsynced.add(room_id)
        log.info("made the direct-message room %s for %s", room_id, user_id)
        try:
            await self._list_as_direct(client, user_id, room_id)
        except Exception as exc:  # the room works; Element only lists it as a group room
            log.error("could not list %s as a direct message in m.direct: %s", room_id, exc)
        return room_id

    @staticmethod
    async def _list_as_direct(client: AsyncClient, user_id: str, room_id: str) -> None:
        api = MatrixApi(client)
        me = str(client.user_id)
        current = await api.get_account_data(me, "m.direct") or {}
        rooms = [r for r in current.get(user_id) or [] if isinstance(r, str)]
        if room_id not in rooms:
            await api.put_account_data(me, "m.direct", {**current, user_id: [*rooms, room_id]})

    async def _ready(self, client: AsyncClient, room_id: str, user_id: str) -> bool:
        if room_id in self._unsynced:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.sync_wait
            while room_id not in client.rooms:
                if loop.time() >= deadline:
                    return False
                await asyncio.sleep(0.05)
            await self._load_state(client, room_id)
            self._unsynced.discard(room_id)
        # Never a direct message in clear text (the room was made encrypted), never one
        # that a third person reads.
        return _private(client, room_id, user_id) and bool(client.rooms[room_id].encrypted)

    @staticmethod
    async def _load_state(client: AsyncClient, room_id: str) -> None:
        """Read the new room's state from the homeserver into nio's room.

        The bot's sync filter leaves out the bot's own events, and when the sync catches
        the room while it is being made, the state events the bot sent (the encryption,
        the member's invitation) are in neither the timeline nor the state of the sync:
        nio would send in clear text, and share no room key with the invited member.
        """
        resp = await client.room_get_state(room_id)
        if not isinstance(resp, RoomGetStateResponse):
            raise DirectRoomError(f"could not read the state of {room_id}: {resp}")
        room = client.rooms[room_id]
        for raw in resp.events:
            event = Event.parse_event(raw)
            if isinstance(event, RoomMemberEvent):
                room.handle_membership(event)
            elif isinstance(event, Event):
                room.handle_event(event)
            if isinstance(event, RoomEncryptionEvent):
                client.encrypted_rooms.add(room_id)
                if client.store is not None:
                    client.store.save_encrypted_rooms([room_id])
        if room.encrypted and client.olm is not None:
            client.olm.update_tracked_users(room)

    def _stored(self, user_id: str) -> str | None:
        with self.db.session() as s:
            row = direct_rooms.get(s, user_id)
            return row.room_id if row is not None else None

    def _remember(self, user_id: str, room_id: str) -> None:
        with self.db.session() as s:
            direct_rooms.remember(s, user_id, room_id, at=self.clock())


def _private(client: AsyncClient, room_id: str, user_id: str) -> bool:
    """The bot and the member are in the room (the member joined or invited; nio counts
    both as users) and nobody else is, joined or invited."""
    room = client.rooms.get(room_id)
    return room is not None and set(dict(room.users)) == {client.user_id, user_id}
