"""Matrix events the bot acts on: invitations, command messages, reactions, other messages
(for the features that listen, e.g. a meeting's attendance), and messages it cannot
decrypt yet. Each becomes an Incoming* for bot.runtime.incoming, handled in the
database thread; the replies it owes go to the outbox and the sender is woken.

Room events arrive through the pipeline (bot.runtime.pipeline), in the order they were
sent within their room. A database that does not answer (PostgreSQL restarting, SQLite
locked by another process) holds the room's queue and is retried until it answers: the
event is then handled once, never half-stored, and never skipped."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from nio import (
    AsyncClient,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomGetStateResponse,
    RoomKeyEvent,
    RoomMessage,
    RoomMessageText,
    RoomNameEvent,
    SyncResponse,
    UnknownEvent,
)

from bot.config import Config
from bot.crypto import status as crypto_status
from bot.runtime.command_state import CommandState, structured_command
from bot.runtime.dbthread import DbThread
from bot.runtime.incoming import (
    BotSettings,
    IncomingActivity,
    IncomingMessage,
    IncomingPollResponse,
    IncomingReaction,
    handle_activity,
    handle_message,
    handle_poll_response,
    handle_reaction,
    handle_text_reply,
    queue_effects,
    reply_key,
)
from bot.runtime.logs import log_context
from bot.runtime.matrix_content import (
    POLL_RESPONSE_TYPES,
    edited_event,
    mentioned_users,
    parse_poll_response,
    replied_to,
    strip_reply_fallback,
    thread_root,
)
from bot.runtime.matrix_render import GREETING_MARK, render_reply
from bot.runtime.metrics import Metrics
from bot.runtime.sender import OutboxSender
from commands.core import i18n
from commands.core.defaults import limits
from commands.core.effects import Reply
from commands.core.power import StateLevels
from commands.core.rich import mention
from commands.core.room import CREATOR_POWER_LEVEL, greeting, room_language
from commands.core.text_input import clean, one_line
from commands.parsing.mentions import member_names
from storage import direct_rooms, events, outbox, rooms, writes
from storage.db import Database
from storage.models import OutboxFile, OutboxMessage, ProcessedEvent
from storage.outbox import txn_id_for

log = logging.getLogger(__name__)


def greeting_key(room_id: str) -> str:
    return f"greeting:{room_id}"


_PRE_V12_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
T = TypeVar("T")
E = TypeVar("E", IncomingMessage, IncomingReaction, IncomingPollResponse)
Clock = Callable[[], dt.datetime]

# What handling any event writes: that it was handled, and the answers it queued. Only a
# write beyond these may have changed what is due in the room (its timers are looked at).
BOOKKEEPING = frozenset(
    {ProcessedEvent.__tablename__, OutboxMessage.__tablename__, OutboxFile.__tablename__}
)


class Answered(NamedTuple):
    """What handling an event in the database thread (`EventHandlers._answer`) gives."""

    queued: int
    # The room's pending messages when some were queued (None: the sender reads them).
    rows: list[OutboxMessage] | None
    # Something beyond `BOOKKEEPING` was written: the room's reminders are looked at again.
    changed: bool


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
    metrics: Metrics
    # The commands offered to clients as room state (None: not published, e.g. a dialog).
    command_state: CommandState | None = None


def state_levels(room: MatrixRoom) -> StateLevels:
    """What the room's power levels require to send state events, as the sync left them
    (nio fills in the specification's defaults)."""
    levels = room.power_levels
    return StateLevels(dict(levels.events), levels.defaults.state_default)


def display_names(room: MatrixRoom) -> dict[str, str]:
    """The room's members now: user ID -> display name ("" where none is set), on one line
    without control or bidi-override characters (a name must not reorder or add lines to
    the bot's answers), and with the user ID added where two look alike, as Element does
    (commands.parsing.mentions.member_names). Every members mapping the bot builds is this.
    nio's dict is copied first: the database thread calls this too (the scheduler)."""
    return member_names({uid: u.display_name for uid, u in dict(room.users).items()})


def room_name(room: MatrixRoom) -> str:
    """The room's own name (`m.room.name`), cleaned and on one line; "" for none. Never
    nio's `display_name`, which makes up a name from the members for an unnamed room: the
    member's name for their direct-message room with the bot, the member list for an
    unnamed committee room; stored and shown, those would name people."""
    return one_line(room.name or "")


def synced_room_names(
    client: AsyncClient, resp: SyncResponse, *, full_state: bool
) -> dict[str, str]:
    """The names (`room_name`) of the joined rooms a sync tells: every one on a sync with
    the full state (the first of a process), else those it renamed (an `m.room.name` in
    their state or timeline; "" when the name was removed). So the stored name follows
    renames, and a name an older version made up from the members goes at the start."""
    found: dict[str, str] = {}
    for room_id, info in resp.rooms.join.items():
        events = [*info.state, *info.timeline.events]
        if full_state or any(isinstance(e, RoomNameEvent) for e in events):
            room = client.rooms.get(room_id)
            if room is not None:
                found[room_id] = room_name(room)
    return found


def store_room_names(db: Database, names: dict[str, str]) -> None:
    """Remember the rooms' names (database thread)."""
    if not names:
        return
    with db.session() as s:
        for room_id, name in names.items():
            rooms.remember_name(s, room_id, name)


def event_time(event: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(event.server_timestamp / 1000, dt.UTC)


class EventHandlers:
    def __init__(self, rt: Runtime, client: AsyncClient) -> None:
        self.rt = rt
        self.client = client
        self._creators: dict[str, frozenset[str]] = {}
        # Set (and replaced) whenever a room key arrives: wakes whoever waits for one.
        self._room_key_arrived = asyncio.Event()
        self._key_wait = rt.config.encryption.undecryptable_wait_seconds
        # Undecryptable events: until when each may wait for its key; those waiting now.
        self._deadline: dict[str, float] = {}
        self._waiting: set[str] = set()

    def register(self) -> None:
        """Invitations come through nio's callbacks; room events through `handle`."""
        client = self.client
        client.add_event_callback(self._guard(self.on_invite), InviteMemberEvent)
        client.add_to_device_callback(self.on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))

    async def handle(self, room_id: str, event: Any) -> None:
        """One room event, in its room's order (called by the pipeline)."""
        room = self.client.rooms.get(room_id)
        if room is None or getattr(event, "sender", None) == self.client.user_id:
            return
        with log_context(room_id=room_id, event_id=getattr(event, "event_id", None)):
            await self._handle(room, event)

    async def _handle(self, room: MatrixRoom, event: Any) -> None:
        if isinstance(event, RoomMessageText):
            await self.on_text(room, event)
        elif isinstance(event, ReactionEvent):
            await self.on_reaction(room, event)
        elif isinstance(event, UnknownEvent) and event.type in POLL_RESPONSE_TYPES:
            await self.on_activity(room, event)  # voting is taking part, too
            await self.on_poll_response(room, event)
        elif isinstance(event, RoomMessage):  # images, files, notices, emotes …
            await self.on_activity(room, event)
        elif isinstance(event, MegolmEvent):
            await self.on_undecryptable(room, event)

    async def prepare(self, room_id: str, batch: list[Any]) -> None:
        """Ask at once for the keys of every message of a batch that could not be
        decrypted, so that their waits overlap instead of adding up."""
        loop = asyncio.get_running_loop()
        for event in batch:
            if isinstance(event, MegolmEvent) and event.sender != self.client.user_id:
                self._deadline.setdefault(event.event_id, loop.time() + self._key_wait)
                with contextlib.suppress(Exception):
                    await self.client.request_room_key(event)  # m.room_key_request

    async def joined_at(self, room_id: str) -> int | None:
        """When the bot joined the room, in ms since the epoch (as event timestamps)."""
        return await self.db(self._joined_at, room_id)

    def _joined_at(self, room_id: str) -> int | None:
        with self.rt.db.session() as s:
            room = rooms.get_room(s, room_id)
            return None if room is None else int(room.joined_at.timestamp() * 1000)

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the database thread; while the database does not answer, retry."""
        return await self.rt.dbt.run_until_answered(fn, *args)

    @property
    def waiting_for_keys(self) -> int:
        """Undecryptable messages whose room key the bot still waits for."""
        return len(self._waiting)

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
        await self.db(self._record_join, room.room_id)
        resp = await self.client.join(room.room_id)
        log.info(
            "joined %s on invitation by %s: %s", room.room_id, event.sender, type(resp).__name__
        )
        content = event.content if isinstance(event.content, dict) else {}
        # A committee room hears once who the bot is; a direct chat needs no introduction.
        committee = isinstance(resp, JoinResponse) and not content.get("is_direct")
        if committee and await self.db(self._greet, room.room_id):
            self.rt.sender.wake(room.room_id)
        if committee and self.rt.command_state is not None:
            self.rt.command_state.refresh(room.room_id)  # in the background

    def _record_join(self, room_id: str) -> None:
        with self.rt.db.session() as s:
            rooms.ensure_room(s, room_id, joined_at=self.rt.clock())

    def _greet(self, room_id: str) -> bool:
        """Queue the greeting, once per room for all time (a fixed outbox key): invited
        again after leaving, the bot does not introduce itself a second time."""
        with self.rt.db.session() as s:
            key = greeting_key(room_id)
            if outbox.by_key(s, key) is not None:
                return False
            lang = room_language(s, room_id, self.rt.settings.defaults.language)
            content = render_reply(Reply(greeting(lang, self.rt.settings.prefix)))
            content[GREETING_MARK] = True
            outbox.enqueue(s, key=key, room_id=room_id, content=content)
            return True

    # ------------------------------------------------------------------ commands, reactions

    async def on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        # Control and bidi-override characters go before anything reads the text.
        body = clean(strip_reply_fallback(event.body or ""))
        content = event.source.get("content", {})
        content = content if isinstance(content, dict) else {}
        edited = edited_event(content)
        if edited is not None:  # an edit never runs a command (docs/editing.md)
            await self.on_activity(room, event)
            await self.on_edit(room, event, edited, content)
            return
        # A command picked from the list a client offers (MSC4391) is run as typed.
        picked = structured_command(
            content, bot_user=self.client.user_id, prefix=self.rt.config.command_prefix
        )
        body = body if picked is None else clean(picked)
        if not body.lstrip().startswith(self.rt.config.command_prefix):
            await self.on_activity(room, event)
            if replied_to(content) is not None:  # perhaps an answer to a bot's question
                await self.on_plain_reply(room, event, body, content)
            return
        msg = IncomingMessage(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            body=body,
            html=clean(event.formatted_body) if isinstance(event.formatted_body, str) else None,
            mentions=mentioned_users(content),
            reply_to=replied_to(content),
            members=display_names(room),
            power_levels=await self.power_levels(room),
            state_levels=state_levels(room),
            thread_root=thread_root(content),
            room_name=room_name(room),
        )
        rt = self.rt
        answered, rows, changed = await self.db(self._answer, handle_message, msg)
        if answered:
            rt.metrics.answer_owed(
                txn_id_for(reply_key(msg.event_id, 0), rt.db.secret), msg.timestamp
            )
            rt.sender.wake(room.room_id, rows)  # first: the answer is what the member waits for
        if changed:  # the command may have changed what is due (one that read did not)
            rt.poke(room.room_id)

    async def on_edit(
        self, room: MatrixRoom, event: RoomMessageText, edited: str, content: dict[str, Any]
    ) -> None:
        """An edit (m.replace) of a command, or into one, is not carried out: answered
        once per edited message that edits are not run (the command ran, if at all, as
        first sent). Edits of other messages are none of the bot's business."""
        new = content.get("m.new_content")
        text = new.get("body") if isinstance(new, dict) else None
        text = text if isinstance(text, str) else (event.body or "").removeprefix("* ")
        is_command = clean(text).lstrip().startswith(self.rt.config.command_prefix)
        if not await self.db(self._is_unhandled, room.room_id, event.event_id, event_time(event)):
            return
        if await self.db(self._answer_edit, room.room_id, event, edited, is_command):
            self.rt.sender.wake(room.room_id)

    def _answer_edit(
        self, room_id: str, event: RoomMessageText, edited: str, is_command: bool
    ) -> int:
        rt = self.rt
        event_id = event.event_id
        with rt.db.session() as s:
            if not (is_command or events.is_processed(s, edited)):
                return 0
            # An edit answered counts as a command for flood control: editing many
            # messages into commands must not make the bot answer faster than commands.
            sent_at = min(rt.clock(), event_time(event))
            quota = limits(rt.settings.defaults)
            if not rt.settings.flood.check(room_id, event.sender, event_id, sent_at, quota).allowed:
                events.mark_processed(s, event_id, room_id)
                return 0
            lang = room_language(s, room_id, rt.settings.defaults.language)
            queued = queue_effects(
                s,
                f"edit:{edited}",  # one answer per edited message, however often edited
                room_id,
                [Reply(i18n.t(lang, "input.edit_not_run"), in_reply_to=event_id)],
            )
            events.mark_processed(s, event_id, room_id)
            return queued

    async def on_plain_reply(
        self, room: MatrixRoom, event: RoomMessageText, body: str, content: dict[str, Any]
    ) -> None:
        msg = IncomingMessage(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            body=body,
            reply_to=replied_to(content),
            members=display_names(room),
        )
        answered, rows, _changed = await self.db(self._answer, handle_text_reply, msg)
        if answered:
            self.rt.sender.wake(room.room_id, rows)

    def _answer(
        self,
        handle: Callable[[Database, E, BotSettings, Clock], int],
        event: E,
        read_back: bool = True,
    ) -> Answered:
        """`handle` the event (database thread): how many replies it queued, whether it
        changed what is stored beyond that (`Answered.changed`) and, when it queued any,
        the room's pending messages, read in the same turn of the database thread: the
        sender starts with them instead of reading them once more, a hand-over less
        before the answer."""
        rt = self.rt
        with writes.collected() as written:
            queued = handle(rt.db, event, rt.settings, rt.clock)
        changed = not written <= BOOKKEEPING
        if not queued or not read_back:
            return Answered(queued, None, changed)
        try:
            with rt.db.session(write=False) as s:
                return Answered(queued, outbox.pending_of(s, event.room_id), changed)
        except Exception:  # handled and stored: the sender reads them itself
            log.warning("reading the answers to %s failed", event.event_id, exc_info=True)
            return Answered(queued, None, changed)

    async def on_activity(self, room: MatrixRoom, event: RoomMessage | UnknownEvent) -> None:
        """A message that is no command: only features that listen hear of it."""
        rt = self.rt
        if not rt.settings.registry.listeners:
            return
        activity = IncomingActivity(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            display_name=display_names(room).get(event.sender, ""),
        )
        await self.db(handle_activity, rt.db, activity, rt.settings, rt.clock)

    async def on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        reaction = IncomingReaction(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            key=event.key,
            target_event_id=event.reacts_to,
            members=display_names(room),
            power_levels=await self.power_levels(room),
        )
        answered, rows, changed = await self.db(self._answer, handle_reaction, reaction)
        if answered:
            self.rt.sender.wake(room.room_id, rows)
        if changed:
            self.rt.poke(room.room_id)

    async def on_poll_response(self, room: MatrixRoom, event: UnknownEvent) -> None:
        content = event.source.get("content", {})
        parsed = parse_poll_response(event.type, content if isinstance(content, dict) else {})
        if parsed is None:
            log.info(
                "ignoring poll response %s in %s: it refers to no poll",
                event.event_id,
                room.room_id,
            )
            return
        answer = IncomingPollResponse(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            timestamp=event_time(event),
            start_event_id=parsed.start_event_id,
            answers=parsed.answers,
            members=display_names(room),
            power_levels=await self.power_levels(room),
        )
        # Its answers may go to a member's direct-message room: the sender looks for them.
        answered, _rows, changed = await self.db(self._answer, handle_poll_response, answer, False)
        if answered:
            self.rt.sender.wake()
        if changed:
            self.rt.poke(room.room_id)

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
        """Wait (in this room's order) for the missing key; else say so in the room."""
        if not await self.db(self._is_unhandled, room.room_id, event.event_id, event_time(event)):
            return  # history from before the bot joined, or handled already
        log.warning(
            "could not decrypt %s from %s in %s; waiting for the key",
            event.event_id,
            event.sender,
            room.room_id,
        )
        await self.prepare(room.room_id, [event])
        self._waiting.add(event.event_id)
        try:
            await self._await_room_key(room, event)
        finally:
            self._waiting.discard(event.event_id)
            self._deadline.pop(event.event_id, None)

    def _is_unhandled(self, room_id: str, event_id: str, sent: dt.datetime) -> bool:
        with self.rt.db.session() as s:
            if events.is_processed(s, event_id):
                return False
            # A member's direct-message room: the bot made it, so everything in it is
            # meant for the bot (a poll answer, a free text).
            if direct_rooms.is_direct_room(s, room_id):
                return True
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
        deadline = self._deadline.get(event.event_id, loop.time() + self._key_wait)
        while True:
            arrived = self._room_key_arrived
            decrypted = self._try_decrypt(room.room_id, event)
            if decrypted is not None:
                log.info("the key of %s arrived; handling the message", event.event_id)
                await self.handle(room.room_id, decrypted)
                return
            remaining = deadline - loop.time()
            if remaining <= 0 or self.rt.stopping():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timeout=min(remaining, 1.0))
        if self.rt.stopping():
            return
        name = display_names(room).get(event.sender) or event.sender
        if await self.db(self._answer_undecryptable, room.room_id, event, name):
            self.rt.metrics.undecryptable.inc()
            self.rt.sender.wake()

    def _answer_undecryptable(self, room_id: str, event: MegolmEvent, name: str) -> int:
        """Count it and answer once per sender and megolm session ("could not read")."""
        rt = self.rt
        with rt.db.session() as s:
            if events.is_processed(s, event.event_id):
                return 0
            crypto_status.record_undecryptable(s, rt.clock())
            lang = room_language(s, room_id, rt.settings.defaults.language)
            text = i18n.t(lang, "error.undecryptable", user=mention(event.sender, name))
            queue_effects(
                s,
                f"undecryptable:{room_id}:{event.sender}:{event.session_id}",
                room_id,
                [Reply(text, in_reply_to=event.event_id)],
            )
            events.mark_processed(s, event.event_id, room_id)
            return 1
