"""Matrix events the bot acts on: invitations, command messages, reactions, and messages it
cannot decrypt yet. Each becomes an Incoming* for bot.runtime.incoming, handled in the
database thread; the replies it owes go to the outbox and the sender is woken."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nio import (
    AsyncClient,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomGetStateResponse,
    RoomKeyEvent,
    RoomMessageText,
)

from bot.config import Config
from bot.crypto import status as crypto_status
from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import (
    BotSettings,
    IncomingMessage,
    IncomingReaction,
    handle_message,
    handle_reaction,
    queue_effects,
)
from bot.runtime.matrix_content import (
    mentioned_users,
    replied_to,
    strip_reply_fallback,
    thread_root,
)
from bot.runtime.sender import OutboxSender
from commands.core import i18n
from commands.core.effects import Reply
from commands.core.rich import mention
from commands.general import settings
from storage import events, rooms
from storage.db import Database

log = logging.getLogger(__name__)

_PRE_V12_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
CREATOR_POWER_LEVEL = 2**53 - 1
_ANSWER_WAIT_SECONDS = 2.0


@dataclass
class Runtime:
    """What the event handlers share with the rest of the process."""

    config: Config
    settings: BotSettings
    db: Database
    dbt: DbThread
    clock: Callable[[], dt.datetime]
    sender: OutboxSender
    # The room's reminders may have changed (a command, a reaction).
    poke: Callable[[str], None]
    stopping: Callable[[], bool]


def event_time(event: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(event.server_timestamp / 1000, dt.UTC)


class EventHandlers:
    def __init__(self, rt: Runtime, client: AsyncClient) -> None:
        self.rt = rt
        self.client = client
        self._creators: dict[str, frozenset[str]] = {}
        # Undecryptable events waiting for their room key; set when any room key arrives.
        self._room_key_arrived = asyncio.Event()
        self._key_waits: set[asyncio.Task[None]] = set()

    def register(self) -> None:
        client = self.client
        client.add_event_callback(self._guard(self.on_invite), InviteMemberEvent)
        client.add_event_callback(self._guard(self.on_text), RoomMessageText)
        client.add_event_callback(self._guard(self.on_undecryptable), MegolmEvent)
        client.add_event_callback(self._guard(self.on_reaction), ReactionEvent)
        client.add_to_device_callback(self.on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))

    def cancel_waits(self) -> None:
        for waiting in list(self._key_waits):
            waiting.cancel()

    @property
    def waiting_for_keys(self) -> int:
        """Undecryptable messages whose room key the bot still waits for."""
        return len(self._key_waits)

    def creators(self, room_id: str) -> frozenset[str]:
        """Creators of a room version 12 room, as far as already read."""
        return self._creators.get(room_id, frozenset())

    def _guard(self, handler: Callable[[MatrixRoom, Any], Any]) -> Callable[..., Any]:
        """One handler's failure is logged and never reaches the sync loop."""

        async def guarded(room: MatrixRoom, event: Any) -> None:
            try:
                await handler(room, event)
            except Exception:
                log.exception("handling %s in %s failed", type(event).__name__, room.room_id)

        return guarded

    # ------------------------------------------------------------------ invitations

    async def on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        if not self.rt.config.may_invite(event.sender):
            log.info(
                "declining invite to %s from %s (not an allowed inviter)",
                room.room_id,
                event.sender,
            )
            await self.client.room_leave(room.room_id)
            return
        # Recorded before joining: every message after this moment is the bot's business.
        await self.rt.dbt.run(self._record_join, room.room_id)
        resp = await self.client.join(room.room_id)
        log.info(
            "joined %s on invitation by %s: %s", room.room_id, event.sender, type(resp).__name__
        )

    def _record_join(self, room_id: str) -> None:
        with self.rt.db.session() as s:
            rooms.ensure_room(s, room_id, joined_at=self.rt.clock())

    # ------------------------------------------------------------------ commands, reactions

    async def on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id:
            return
        body = strip_reply_fallback(event.body or "")
        if not body.lstrip().startswith(self.rt.config.command_prefix):
            return
        content = event.source.get("content", {})
        msg = IncomingMessage(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            body=body,
            html=event.formatted_body,
            mentions=mentioned_users(content),
            reply_to=replied_to(content),
            members={uid: (u.display_name or "") for uid, u in room.users.items()},
            power_levels=await self.power_levels(room),
            thread_root=thread_root(content),
        )
        rt = self.rt
        queued = await rt.dbt.run(handle_message, rt.db, msg, rt.settings, rt.clock)
        if queued:
            rt.poke(room.room_id)  # the command may have changed what is due
            await rt.sender.answer_now(_ANSWER_WAIT_SECONDS)

    async def on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if event.sender == self.client.user_id:
            return
        reaction = IncomingReaction(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            key=event.key,
            target_event_id=event.reacts_to,
            members={uid: (u.display_name or "") for uid, u in room.users.items()},
            power_levels=await self.power_levels(room),
        )
        rt = self.rt
        if await rt.dbt.run(handle_reaction, rt.db, reaction, rt.settings, rt.clock):
            rt.poke(room.room_id)
            await rt.sender.answer_now(_ANSWER_WAIT_SECONDS)

    async def power_levels(self, room: MatrixRoom) -> dict[str, int]:
        levels = {uid: room.power_levels.get_user_level(uid) for uid in room.users}
        for creator in await self._privileged_creators(room):
            levels[creator] = CREATOR_POWER_LEVEL
        return levels

    async def _privileged_creators(self, room: MatrixRoom) -> frozenset[str]:
        """Room version 12 (MSC4289) gives creators unlimited power outside power_levels."""
        if room.room_version in _PRE_V12_ROOM_VERSIONS:
            return frozenset()
        cached = self._creators.get(room.room_id)
        if cached is not None:
            return cached
        # The create event's sender is not in its content, so read the full state once.
        resp = await self.client.room_get_state(room.room_id)
        if not isinstance(resp, RoomGetStateResponse):
            return frozenset()
        creators: set[str] = set()
        for ev in resp.events:
            if ev.get("type") == "m.room.create":
                creators.add(str(ev.get("sender", "")))
                creators.update(ev.get("content", {}).get("additional_creators") or [])
        found = frozenset(c for c in creators if c)
        self._creators[room.room_id] = found
        return found

    # ------------------------------------------------------------------ undecryptable

    async def on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """Ask for the missing key, wait a little for it, else say so in the room."""
        if event.sender == self.client.user_id:
            return
        if not await self.rt.dbt.run(
            self._is_unhandled, room.room_id, event.event_id, event_time(event)
        ):
            return  # history from before the bot joined, or handled already
        log.warning(
            "could not decrypt %s from %s in %s; asking for the key",
            event.event_id,
            event.sender,
            room.room_id,
        )
        with contextlib.suppress(Exception):
            await self.client.request_room_key(event)  # m.room_key_request
        # Waiting here would hold up the sync that may bring the key: wait beside it.
        task = asyncio.create_task(self._await_room_key(room, event))
        self._key_waits.add(task)
        task.add_done_callback(self._key_waits.discard)

    def _is_unhandled(self, room_id: str, event_id: str, sent: dt.datetime) -> bool:
        with self.rt.db.session() as s:
            if events.is_processed(s, event_id):
                return False
            room = rooms.get_room(s, room_id)
            return room is not None and sent >= room.joined_at

    async def on_room_key(self, event: Any) -> None:
        """A room key (or a forwarded one) arrived: wake whoever waits for one."""
        arrived, self._room_key_arrived = self._room_key_arrived, asyncio.Event()
        arrived.set()

    def _try_decrypt(self, room_id: str, event: MegolmEvent) -> Any | None:
        assert self.client.olm is not None
        try:
            decrypted = self.client.olm.decrypt_megolm_event(event, room_id)
        except Exception:
            return None
        return None if isinstance(decrypted, MegolmEvent) else decrypted

    async def _await_room_key(self, room: MatrixRoom, event: MegolmEvent) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.rt.config.encryption.undecryptable_wait_seconds
        while True:
            arrived = self._room_key_arrived
            decrypted = self._try_decrypt(room.room_id, event)
            if decrypted is not None:
                log.info("the key of %s arrived; handling the message", event.event_id)
                # Every handler, as if the event had come decrypted (they are guarded).
                for callback in list(self.client.event_callbacks):
                    await callback.async_execute(decrypted, room)
                return
            remaining = deadline - loop.time()
            if remaining <= 0 or self.rt.stopping():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timeout=min(remaining, 1.0))
        if self.rt.stopping():
            return
        member = room.users.get(event.sender)
        name = (member.display_name if member else None) or event.sender
        try:
            queued = await self.rt.dbt.run(self._answer_undecryptable, room.room_id, event, name)
        except Exception:
            log.exception("could not queue the answer to undecryptable %s", event.event_id)
            return
        if queued:
            self.rt.sender.wake()

    def _answer_undecryptable(self, room_id: str, event: MegolmEvent, name: str) -> int:
        """Count it and answer once per sender and megolm session ("could not read")."""
        rt = self.rt
        with rt.db.session() as s:
            if events.is_processed(s, event.event_id):
                return 0
            crypto_status.record_undecryptable(s, rt.clock())
            lang = settings.room_language(s, room_id, rt.settings.default_language)
            text = i18n.t(lang, "error.undecryptable", user=mention(event.sender, name))
            queue_effects(
                s,
                f"undecryptable:{room_id}:{event.sender}:{event.session_id}",
                room_id,
                [Reply(text, in_reply_to=event.event_id)],
            )
            events.mark_processed(s, event.event_id, room_id)
            return 1
