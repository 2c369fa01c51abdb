"""The bot's commands as room state (commands.core.command_state says which events and
why), and the bot as a service member (`io.element.functional_members`), kept up to date
in every committee room:

- when the bot joins a committee room (bot.runtime.events, on an invitation),
- when a room's language changed (`!einstellungen sprache en`: bot.runtime.incoming sees
  the stored language differ after a command and tells `language_changed`),
- at start-up, for every committee room it is in (an upgrade may have changed commands),
- when a room's power levels changed (the bot may have been given the level it lacked).

Each time the room's current state is read (one request) and only what differs is sent,
so a restart or a second call sends nothing. Nothing is sent where the power levels do
not let the bot send that event type (`m.room.power_levels`: `events`, else
`state_default`, against the bot's level; read by commands.core.power, which `!dashboard
einrichten` asks too). Descriptions of commands the bot no longer offers under that name
(the room's language changed, an upgrade renamed one) are emptied, which is how a state
event is withdrawn. The service members' list keeps whoever else is on it.

All of it runs in background tasks, one publication per room at a time and two rooms
side by side: a failure is logged and the bot goes on; a command's answer never waits
for it. State events count against the homeserver's message rate limit like answers do
(a language change sends about 80): a send the limit held back makes the next wait as
long, so answers get their turn; an operator may lift the bot's limit (Synapse's admin
API `override_ratelimit`).

A member who picks a command in an MSC4391 client sends `org.matrix.msc4391.command`
with a body of the client's making (`/liste meine`); `structured_command` turns it back
into the command line the bot reads (bot.runtime.events).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from nio import AsyncClient, RoomGetStateResponse, RoomPutStateError

from bot.runtime.dbthread import DbThread
from commands.core.command_state import (
    FUNCTIONAL_MEMBERS_TYPE,
    MSC4391_TYPE,
    StateEvent,
    command_events,
)
from commands.core.power import StateLevels, may_send_state, user_level
from commands.core.registry import Registry
from commands.core.room import room_language
from storage import direct_rooms, rooms
from storage.db import Database

log = logging.getLogger(__name__)

POWER_LEVELS_TYPE = "m.room.power_levels"
CREATE_TYPE = "m.room.create"
# What a client sends when a member picks a command described with MSC4391.
MSC4391_COMMAND = "org.matrix.msc4391.command"
# Rooms published to side by side (start-up goes through every room).
PARALLEL_ROOMS = 2
# A state event that took this long was held back by the homeserver's rate limit (nio
# waits and retries): wait as long again before the next, so that the answers to
# commands, which count against the same limit, get their turn.
SLOW_SEND = 1.0
MAX_PAUSE = 30.0
# Room version 12 (MSC4289) gives creators unlimited power outside power_levels.
_PRE_V12_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))


def current_state(events: Iterable[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The room's state events (as GET /state gives them) by (type, state key)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for ev in events:
        if not isinstance(ev, dict):
            continue
        kind, key = ev.get("type"), ev.get("state_key")
        if isinstance(kind, str) and isinstance(key, str):
            found[(kind, key)] = ev
    return found


def _content(ev: dict[str, Any] | None) -> dict[str, Any]:
    content = ev.get("content") if ev is not None else None
    return content if isinstance(content, dict) else {}


def may_send(state: dict[tuple[str, str], dict[str, Any]], user_id: str, event_type: str) -> bool:
    """Whether the room's power levels let `user_id` send a state event of `event_type`."""
    create = state.get((CREATE_TYPE, ""))
    create_content = _content(create)
    version = str(create_content.get("room_version", "1"))
    creators = {create.get("sender")} if create is not None else set()
    extra = create_content.get("additional_creators")
    creators.update(extra if isinstance(extra, list) else [])
    if version not in _PRE_V12_ROOM_VERSIONS and user_id in creators:
        return True
    levels = state.get((POWER_LEVELS_TYPE, ""))
    # No power levels at all: any member may send state (level 0).
    content = None if levels is None else _content(levels)
    return may_send_state(user_level(content, user_id), StateLevels.of(content), event_type)


def functional_members(current: dict[str, Any], user_id: str) -> dict[str, Any] | None:
    """The service members' content with `user_id` added to whoever is listed; None when
    it is listed already."""
    listed = current.get("service_members")
    members = [m for m in listed if isinstance(m, str)] if isinstance(listed, list) else []
    if user_id in members:
        return None
    return {**current, "service_members": [*members, user_id]}


def planned_updates(
    events: Iterable[Any], wanted: Iterable[StateEvent], *, bot_user: str
) -> list[StateEvent]:
    """What to send so that the room's state holds `wanted` and the bot as a service
    member: only what differs, only what the bot may send; the service members first,
    then the commands, then the withdrawal of descriptions the bot no longer offers."""
    state = current_state(events)
    updates: list[StateEvent] = []
    if may_send(state, bot_user, FUNCTIONAL_MEMBERS_TYPE):
        merged = functional_members(_content(state.get((FUNCTIONAL_MEMBERS_TYPE, ""))), bot_user)
        if merged is not None:
            updates.append(StateEvent(FUNCTIONAL_MEMBERS_TYPE, "", merged))
    keys = set()
    for ev in wanted:
        keys.add((ev.event_type, ev.state_key))
        if not may_send(state, bot_user, ev.event_type):
            continue
        now = state.get((ev.event_type, ev.state_key))
        if now is None or _content(now) != ev.content:
            updates.append(ev)
    if may_send(state, bot_user, MSC4391_TYPE):
        for (kind, key), had in state.items():
            withdrawn = kind != MSC4391_TYPE or not _content(had) or (kind, key) in keys
            if not withdrawn and had.get("sender") == bot_user:
                updates.append(StateEvent(kind, key, {}))
    return updates


def structured_command(content: dict[str, Any], *, bot_user: str, prefix: str) -> str | None:
    """The command line a client meant with an MSC4391 invocation addressed to the bot
    (`org.matrix.msc4391.command`, the bot in `m.mentions`): the command's name and its
    argument, as a member would type them. None for any other message: its `body` stands."""
    invocation = content.get(MSC4391_COMMAND)
    mentions = content.get("m.mentions")
    user_ids = mentions.get("user_ids") if isinstance(mentions, dict) else None
    if not isinstance(invocation, dict) or not isinstance(user_ids, list):
        return None
    name = invocation.get("command")
    if bot_user not in user_ids or not isinstance(name, str) or not name.strip():
        return None
    arguments = invocation.get("arguments")
    values = arguments.values() if isinstance(arguments, dict) else ()
    words = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    return " ".join([prefix + name.strip(), *words])


class CommandState:
    """Keeps the commands' state events and the service members' list in the rooms."""

    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        *,
        registry: Registry,
        prefix: str,
        bot_user: str,
        default_language: str,
    ) -> None:
        self.db = db
        self.dbt = dbt
        self.registry = registry
        self.prefix = prefix
        self.bot_user = bot_user
        self.default_language = default_language
        self._client: AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Rooms to (re)publish, and the task working on each room now.
        self._wanted: set[str] = set()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._slots: asyncio.Semaphore | None = None

    def bind(self, client: AsyncClient) -> None:
        """From now on (the bot has logged in) rooms are published to, on this loop."""
        self._client = client
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(PARALLEL_ROOMS)

    def language_changed(self, room_id: str) -> None:
        """A room's stored language changed (called in the database thread, after the
        commit): its commands are published again in the new language."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.refresh, room_id)

    def refresh(self, room_id: str) -> None:
        """Publish to `room_id` in the background (on the event loop)."""
        if self._client is None or self._slots is None:
            return
        self._wanted.add(room_id)
        if room_id not in self._running:
            task = asyncio.create_task(self._work(room_id), name=f"command-state-{room_id}")
            self._running[room_id] = task

    def refresh_all(self, room_ids: Iterable[str]) -> None:
        """Publish to every room of `room_ids` that is a committee room (at start-up)."""
        for room_id in room_ids:
            self.refresh(room_id)

    async def settled(self) -> None:
        """Wait until nothing is left to publish (tests, shutdown)."""
        await asyncio.sleep(0)  # a refresh handed over from another thread starts first
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Stop publishing (at shutdown); the next start publishes what is left."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._wanted.clear()

    async def _work(self, room_id: str) -> None:
        """Publish to one room until no further refresh of it is wanted: a change made
        while one publication runs is published by the next round, never side by side."""
        assert self._slots is not None
        try:
            while room_id in self._wanted:
                self._wanted.discard(room_id)
                async with self._slots:
                    try:
                        await self.publish(room_id)
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # never a reason to stop the bot or another room
                        log.exception("publishing the commands to %s failed", room_id)
        finally:
            self._running.pop(room_id, None)

    async def publish(self, room_id: str) -> int:
        """Bring the room's state up to date now; how many state events were sent."""
        client = self._client
        if client is None:
            return 0
        lang = await self.dbt.run_until_answered(self._language_of, room_id)
        if lang is None:
            return 0  # no committee room (a member's direct-message room, or left)
        resp = await client.room_get_state(room_id)
        if not isinstance(resp, RoomGetStateResponse):
            log.warning("could not read the state of %s to publish the commands: %s", room_id, resp)
            return 0
        wanted = command_events(self.registry, lang, prefix=self.prefix, bot_user=self.bot_user)
        updates = planned_updates(resp.events, wanted, bot_user=self.bot_user)
        sent = 0
        loop = asyncio.get_running_loop()
        for ev in updates:
            started = loop.time()
            put = await client.room_put_state(
                room_id, ev.event_type, ev.content, state_key=ev.state_key
            )
            if isinstance(put, RoomPutStateError):
                log.warning("could not send %s to %s: %s", ev.event_type, room_id, put.message)
                if put.status_code == "M_FORBIDDEN":
                    break  # the power levels changed meanwhile; their change brings us back
                continue
            sent += 1
            took = loop.time() - started
            if took > SLOW_SEND:
                await asyncio.sleep(min(took, MAX_PAUSE))
        if sent:
            log.info("published the commands (%s) to %s: %d state event(s)", lang, room_id, sent)
        return sent

    def _language_of(self, room_id: str) -> str | None:
        """The language of a committee room the bot is in; None for any other room."""
        with self.db.session(write=False) as s:
            room = rooms.get_room(s, room_id)
            if room is None or room.left_at is not None:
                return None
            if direct_rooms.is_direct_room(s, room_id):
                return None
            return room_language(s, room_id, self.default_language)
