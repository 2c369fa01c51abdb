"""Dialog tests: a member says something in a room, the bot's messages come back.

Runs the bot's own event handling (`bot.runtime.events.EventHandlers`, then
`bot.runtime.incoming`), the real command layer and the real storage, without a
homeserver, the way Zulip's and errbot's bot tests read: `dialog.say("@anna:example.org",
"!liste")`. Each message is a nio event as the homeserver delivers it (sent at the
dialog's `now`), in a `MatrixRoom` with the dialog's members and power levels; one bot
(one runtime, one flood control) hears the whole dialog. The Dialog plays the homeserver:
what the bot queued in its outbox is "sent" (marked sent under a made-up event ID), so a
later reply or reaction to that event finds the bot's message the way it does in a room.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from nio import Event, MatrixRoom
from sqlalchemy import func, or_
from sqlmodel import col, select

from bot.runtime.events import display_names
from bot.runtime.flood import FloodControl
from bot.runtime.incoming import BotSettings, reply_key
from bot.runtime.limits import MAX_PARTS
from bot.runtime.matrix_content import text_of
from bot.runtime.matrix_render import with_target
from commands.core.defaults import Defaults
from commands.core.registry import Registry
from commands.features import build_registry
from storage import direct_rooms, outbox, rooms
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests import seed
from tests.dialog_bot import (
    DialogBot,
    invite_event,
    matrix_room,
    poll_response_event,
    reaction_event,
    text_event,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW_FOR_TESTS = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
BEN = "@ben:example.org"
CARLA = "@carla:example.org"
CHAIR = "@vorsitz:example.org"
BOT = "@gremienbot:example.org"
COORDINATOR = "@buero:example.org"
STRANGER = "@fremd:example.org"

# One registry for every dialog: building it is what the bot does once at start-up.
REGISTRY = build_registry()


@dataclass(frozen=True)
class Sent:
    """One message the bot sent, as the room sees it: its Matrix event."""

    event_id: str
    # None: a direct message to a member (in `Dialog.dm_room(to_user)`).
    room_id: str | None
    to_user: str | None
    event_type: str
    content: dict[str, Any]
    # What the message is about (from the outbox): replies and reactions act on it.
    ref_kind: str | None
    ref_id: int | None

    @property
    def body(self) -> str:
        """What a member reads: the text, or a poll's text fallback."""
        return str(self.content.get("body") or text_of(self.content))

    @property
    def html(self) -> str:
        return str(self.content.get("formatted_body", ""))

    @property
    def mentions(self) -> tuple[str, ...]:
        return tuple(self.content.get("m.mentions", {}).get("user_ids", ()))

    @property
    def in_reply_to(self) -> str | None:
        reply = self.content.get("m.relates_to", {}).get("m.in_reply_to", {})
        return reply.get("event_id")

    @property
    def notice(self) -> bool:
        return self.content.get("msgtype") == "m.notice"


@dataclass
class Dialog:
    database: Database
    room_id: str = ROOM
    # Monday, 9 March 2026, 10:15 in Berlin — the reference "now" of the date examples.
    # Every message is sent at `now`, and the bot handles it then.
    now: dt.datetime = NOW_FOR_TESTS
    # The members' display names as set in Matrix ("": none); the bot shows them told
    # apart where two look alike (bot.runtime.events.display_names).
    members: dict[str, str] = field(
        default_factory=lambda: {
            ANNA: "Anna Schmidt",
            BEN: "Ben Okafor",
            CARLA: "Carla Weber",
            CHAIR: "Vorsitz Meyer",
            COORDINATOR: "Bildungsbüro",
        }
    )
    power_levels: dict[str, int] = field(default_factory=lambda: {CHAIR: 50})
    coordinators: frozenset[str] = frozenset({COORDINATOR})
    server_name: str = "example.org"
    defaults: Defaults = field(default_factory=Defaults)
    registry: Registry = REGISTRY
    bot_user: str = BOT
    # Event IDs of the members' messages; two dialogs on one database need distinct ones.
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    last_event_id: str = ""
    # Each member's direct-message room with the bot, where their direct messages land
    # (unnamed: `!dm-<user ID>`); a test may name opaque ones.
    dm_rooms: dict[str, str] = field(default_factory=dict)
    # The room's name (m.room.name; "": none). None: the name stored for it, as the bot
    # stores a room's name from its sync (a test names a room through storage).
    room_name: str | None = None
    # The bot's flood control, for as long as the dialog lasts (as for a running bot).
    flood: FloodControl = field(default_factory=FloodControl)
    _settings: BotSettings | None = field(default=None, init=False, repr=False, compare=False)
    _bot: DialogBot | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def settings(self) -> BotSettings:
        """The bot's settings: one object for the dialog, made anew (with the same flood
        control) only when a test changes the bot's configuration, as by a restart."""
        wanted = BotSettings(
            server_name=self.server_name,
            prefix="!",
            coordinators=self.coordinators,
            registry=self.registry,
            defaults=self.defaults,
            bot_user=self.bot_user,
            flood=self.flood,
            room_members=self._room_members,
        )
        if self._settings != wanted:
            self._settings = wanted
        return self._settings

    @property
    def bot(self) -> DialogBot:
        """The bot: bot.runtime.events' handlers, one runtime for the whole dialog."""
        if self._bot is None:
            self._bot = DialogBot(
                self.database, self.settings, lambda: self.now, bot_user=self.bot_user
            )
        self._bot.runtime.settings = self.settings
        return self._bot

    def _room_members(self, room_id: str) -> Mapping[str, str]:
        """What the bot knows of a room's members: this room's are `members` (and the
        bot), a direct-message room's those it had when last heard from."""
        if room_id == self.room_id:
            members = matrix_room(self.room_id, self.bot_user, self.members)
            return display_names(members)
        return self.bot.members(room_id)

    def matrix_room(self, room_id: str | None = None, sender: str = "") -> MatrixRoom:
        """This room as the bot's client knows it; or the member's direct-message room
        `room_id` (the member and the bot)."""
        if room_id is not None and room_id != self.room_id:
            return matrix_room(room_id, self.bot_user, {sender: ""})
        room = matrix_room(self.room_id, self.bot_user, self.members, self.power_levels)
        room.name = self.room_name
        if room.name is None:
            with self.database.session() as s:
                stored = rooms.get_room(s, self.room_id)
                room.name = None if stored is None else stored.name
        return room

    def dm_room(self, user_id: str) -> str:
        """The member's direct-message room with the bot."""
        return self.dm_rooms.setdefault(user_id, f"!dm-{user_id}")

    def say(
        self,
        sender: str,
        body: str,
        *,
        mentions: tuple[str, ...] = (),
        html: str | None = None,
        reply_to: str | None = None,
        ref: tuple[str, int] | None = None,
        sent_at: dt.datetime | None = None,
    ) -> list[Sent]:
        """Send `body`; as a reply to the event `reply_to`, or to the latest bot message
        about the object `ref` = (kind, id). `sent_at`: the message's own time stamp, when
        it is not `now` (read late, as after an outage)."""
        if ref is not None:
            reply_to = self.event_about(*ref)
        event_id = self._next_event_id()
        self.last_event_id = event_id
        at = self.now if sent_at is None else sent_at
        event = text_event(
            event_id, sender, at, body, html=html, mentions=mentions, reply_to=reply_to
        )
        return self._handle(self.matrix_room(), event)

    def text(self, sender: str, body: str, **kw: Any) -> str:
        """The plain text of all replies, joined: what the member reads."""
        return "\n".join(r.body for r in self.say(sender, body, **kw))

    def chat(self, sender: str, body: str) -> None:
        """A message that is no command, the way the bot hears it: only listeners see it."""
        assert not body.startswith("!")
        event = text_event(self._next_event_id(), sender, self.now, body)
        self._handle(self.matrix_room(), event)

    def edit(
        self, sender: str, original: str, new_body: str, *, fallback_star: bool = True
    ) -> list[Sent]:
        """Edit the message `original` (Element's "Edit", m.replace) into `new_body`."""
        event_id = self._next_event_id()
        event = text_event(
            event_id, sender, self.now, new_body, replaces=original, fallback_star=fallback_star
        )
        return self._handle(self.matrix_room(), event)

    def react(self, sender: str, key: str, target: str | tuple[str, int]) -> list[Sent]:
        """React with `key` to the event `target`, or to the latest bot message about the
        object `target` = (kind, id)."""
        target_event_id = target if isinstance(target, str) else self.event_about(*target)
        event = reaction_event(self._next_event_id(), sender, self.now, key, target_event_id)
        return self._handle(self.matrix_room(), event)

    def reply_plain(
        self, sender: str, body: str, reply_to: str, *, room_id: str | None = None
    ) -> list[Sent]:
        """A plain message (no command) answering the bot's message `reply_to`, in this
        room or in `room_id` (a direct-message room)."""
        event = text_event(self._next_event_id(), sender, self.now, body, reply_to=reply_to)
        return self._handle(self.matrix_room(room_id, sender), event)

    def answer_poll(
        self,
        sender: str,
        poll_event_id: str,
        answers: tuple[str, ...] | None,
        *,
        room_id: str | None = None,
    ) -> list[Sent]:
        """Answer the native poll `poll_event_id` (an m.poll.response from the sender's
        client), in this room or in `room_id` (a direct-message room)."""
        event_id = self._next_event_id()
        event = poll_response_event(event_id, sender, self.now, poll_event_id, answers)
        return self._handle(self.matrix_room(room_id, sender), event)

    def invite(
        self, inviter: str, room_id: str | None = None, *, direct: bool = False
    ) -> list[Sent]:
        """`inviter` invites the bot to `room_id` (this room unless given; `direct`: a direct
        chat): it joins, or declines an inviter it may not follow, and greets a committee."""
        before = self._last_row()
        room = MatrixRoom(room_id or self.room_id, self.bot_user)
        self.bot.invited(room, invite_event(inviter, self.bot_user, direct=direct))
        return self._sent(before)

    def receive(self, event: Event, room: MatrixRoom | None = None) -> list[Sent]:
        """The homeserver delivers `event` (as a test built it, or again) in this room or
        in `room`; what the bot sent for it."""
        return self._handle(self.matrix_room() if room is None else room, event)

    def _handle(self, room: MatrixRoom, event: Event) -> list[Sent]:
        self._join()
        before = self._last_row()
        queued = self.bot.handle(room, event)
        return self._sent(before, event.event_id, queued)

    def event_about(self, ref_kind: str, ref_id: int) -> str:
        """The event ID of the latest message the bot sent about (kind, id), in any room."""
        self.deliver()
        with self.database.session() as s:
            stmt = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.ref_kind == ref_kind,
                    OutboxMessage.ref_id == ref_id,
                    OutboxMessage.status == OutboxStatus.SENT,
                )
                .order_by(col(OutboxMessage.id).desc())
            )
            found = s.exec(stmt).first()
        if found is None or found.event_id is None:
            raise LookupError(f"the bot sent no message about {ref_kind} {ref_id}")
        return found.event_id

    def deliver(self) -> None:
        """The homeserver accepts everything the bot has queued (replies, reminders); files
        still to be made (an export) are made first, as the bot's renderer would."""
        self.bot.make_files()
        with self.database.session() as s:
            pending = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            for row in s.exec(pending.order_by(col(OutboxMessage.id))):
                assert row.id is not None
                if row.target_id is not None:  # an edit or poll end names its target's event
                    target = outbox.get(s, row.target_id)
                    assert target is not None
                    assert target.event_id is not None
                    row.content = json.dumps(with_target(json.loads(row.content), target.event_id))
                if row.to_user is not None and row.room_id is None:
                    row.room_id = self.dm_room(row.to_user)  # as the sender resolves it
                    known = direct_rooms.get(s, row.to_user)
                    if known is None or known.room_id != row.room_id:
                        direct_rooms.remember(s, row.to_user, row.room_id, at=self.now)
                outbox.mark_sent(s, row.id, f"$bot{row.id}", at=self.now)

    def _last_row(self) -> int:
        with self.database.session() as s:
            return int(s.exec(select(func.max(OutboxMessage.id))).one() or 0)

    def _sent(self, after: int, source_event_id: str = "", queued: int = 0) -> list[Sent]:
        """The messages the bot queued for the event just handled (a long one in parts,
        effects for other rooms and direct messages too), once the homeserver took them.

        A replayed event queues nothing new: its replies are found under their keys."""
        self.deliver()
        keys = [
            outbox.txn_id_for(key, self.database.secret)
            for i in range(queued)
            for base in [reply_key(source_event_id, i)]
            for key in [base, *(f"{base}:part{n}" for n in range(2, MAX_PARTS + 1))]
        ]
        with self.database.session() as s:
            stmt = select(OutboxMessage).where(
                or_(col(OutboxMessage.id) > after, col(OutboxMessage.txn_id).in_(keys))
            )
            rows = list(s.exec(stmt.order_by(col(OutboxMessage.id))))
        return [_as_sent(row) for row in rows]

    def sent_since(self, after: int) -> list[Sent]:
        """Everything the bot queued after outbox row `after` (e.g. by a timer)."""
        return self._sent(after)

    def _next_event_id(self) -> str:
        return f"$ev{next(self._ids)}"

    def _join(self) -> None:
        """The bot is in the room, since a month before the first message (the invite
        path records that once)."""
        with self.database.session() as s:
            seed.room(s, self.room_id, joined_at=self.now - dt.timedelta(days=30))


def _as_sent(row: OutboxMessage) -> Sent:
    assert row.event_id is not None
    return Sent(
        event_id=row.event_id,
        room_id=None if row.to_user is not None else row.room_id,
        to_user=row.to_user,
        event_type=row.event_type,
        content=json.loads(row.content),
        ref_kind=row.ref_kind,
        ref_id=row.ref_id,
    )
