"""The bot of a dialog: the real event handlers (bot.runtime.events.EventHandlers) fed nio
events built as the homeserver delivers them, without a network and without threads.

Where it differs from the running bot, and why:
- the database work runs in the caller's thread (`InlineDbThread`): the same functions,
  transactions and retries as in the database thread, but deterministic and with no
  thread per dialog;
- the outbox sender is never started: the dialog plays the homeserver and marks what was
  queued as sent itself (`Dialog.deliver`); the sender only notes what it was woken for;
- files made later (an export) are made at the end of each step, in the test's thread
  and without a process of their own (`DialogBot.make_files`), before they are delivered;
- the client is a real nio AsyncClient that never logs in: the handlers read its user ID
  and its rooms (members, power levels), as they do from a synced client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from nio import (
    AsyncClient,
    Event,
    InviteMemberEvent,
    JoinError,
    JoinResponse,
    MatrixRoom,
    ReactionEvent,
    RoomLeaveError,
    RoomLeaveResponse,
    RoomMessageText,
    UnknownEvent,
)

from bot.config import Config, EncryptionConfig, InvitersConfig
from bot.runtime.dbthread import DbThread
from bot.runtime.events import EventHandlers, Runtime, display_names
from bot.runtime.incoming import BotSettings
from bot.runtime.matrix_content import POLL_RESPONSE_TYPES
from bot.runtime.metrics import Metrics
from bot.runtime.renderer import Renderer
from bot.runtime.sender import OutboxSender
from commands.features import file_job_config
from storage.db import Database

P = ParamSpec("P")
T = TypeVar("T")

# What Element sends today for an answer to a poll (the unstable name of MSC3381).
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
assert POLL_RESPONSE in POLL_RESPONSE_TYPES


class InlineDbThread(DbThread):
    """The database thread's work done in the caller's thread; keeps what each unit of
    work returned, so that the dialog learns how many replies an event queued."""

    def __init__(self) -> None:
        super().__init__(max_retry_wait=0.0)
        self.results: list[object] = []
        # False: the first failure is not retried but raised, so that a test sees what
        # one failed attempt leaves behind.
        self.retry = True

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        result = fn(*args, **kwargs)
        self.results.append(result)
        return result

    async def run_until_answered(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.retry:
            return await super().run_until_answered(fn, *args, **kwargs)
        return await self.run(fn, *args, **kwargs)


class QuietSender(OutboxSender):
    """A sender that is never started: the dialog delivers the outbox itself."""

    def __init__(self, db: Database, dbt: DbThread, clock: Callable[[], dt.datetime]) -> None:
        super().__init__(db, dbt, client=lambda: None, clock=clock, max_retry_wait=0.0)
        self.woken: list[str | None] = []

    def wake(self, room_id: str | None = None, *args: Any, **kwargs: Any) -> None:
        self.woken.append(room_id)
        super().wake(room_id, *args, **kwargs)


class LocalClient(AsyncClient):
    """The bot's nio client, logged in as `bot_user` but never connected: what the
    handlers ask of the homeserver (join, leave) is answered here."""

    def __init__(self, bot_user: str) -> None:
        super().__init__(f"https://{bot_user.split(':', 1)[1]}", bot_user)
        self.user_id = bot_user
        self.left: list[str] = []

    async def join(self, room_id: str) -> JoinResponse | JoinError:
        return JoinResponse(room_id)

    async def room_leave(self, room_id: str) -> RoomLeaveResponse | RoomLeaveError:
        self.left.append(room_id)
        return RoomLeaveResponse()


class DialogBot:
    """One bot for one dialog: one runtime, so its flood control sees every command."""

    def __init__(
        self,
        db: Database,
        settings: BotSettings,
        clock: Callable[[], dt.datetime],
        *,
        bot_user: str,
    ) -> None:
        self.dbt = InlineDbThread()
        self.client = LocalClient(bot_user)
        self.sender = QuietSender(db, self.dbt, clock)
        # Rooms whose reminders may have changed (the scheduler is poked).
        self.poked: list[str] = []
        config = Config(
            homeserver=self.client.homeserver,
            user_id=bot_user,
            command_prefix=settings.prefix,
            coordination=sorted(settings.coordinators),
            # Members of the bot's own server may invite it.
            allowed_inviters=InvitersConfig(servers=[bot_user.split(":", 1)[1]]),
            # Nothing arrives while a handler runs: a room key waited for would never come.
            encryption=EncryptionConfig(undecryptable_wait_seconds=0),
        )
        self.runtime = Runtime(
            config=config,
            settings=settings,
            db=db,
            dbt=self.dbt,
            clock=clock,
            sender=self.sender,
            poke=self.poked.append,
            stopping=lambda: False,
            metrics=Metrics(),
        )
        self.handlers = EventHandlers(self.runtime, self.client)
        self.renderer = Renderer(
            db,
            self.dbt,
            settings.registry.file_jobs,
            language=settings.defaults.language,
            separate_process=False,
            config=file_job_config(settings.defaults),
        )

    def make_files(self) -> int:
        """Make the files the outbox waits for (the renderer's work), here and now."""
        return self.renderer.run_pending()

    def handle(self, room: MatrixRoom, event: Event) -> int:
        """The pipeline hands one event of `room` to the handlers; how many replies (of
        the bot's event handling) were queued for it, counted again for a replay."""
        self.client.rooms[room.room_id] = room
        self.dbt.results.clear()
        self.run(self.handlers.handle(room.room_id, event))
        # The handle_* functions of bot.runtime.incoming return the replies they queued
        # (EventHandlers._answer hands them on with the room's pending rows); the other
        # units of work return None, a bool or a row.
        queued = 0
        for result in self.dbt.results:
            if isinstance(result, tuple) and result and type(result[0]) is int:
                queued += result[0]
            elif type(result) is int:
                queued += result
        return queued

    def invited(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        """An invitation in a sync (a nio callback in the running bot, not the pipeline)."""
        self.run(self.handlers.on_invite(room, event))

    def members(self, room_id: str) -> Mapping[str, str]:
        """What the bot knows of a room's members (BotSettings.room_members), as app.py."""
        room = self.client.rooms.get(room_id)
        return {} if room is None else display_names(room)

    @staticmethod
    def run(coro: Any) -> None:
        """Run a handler to its end on a loop of its own: no dialog step leaves a task
        behind, and no other loop is made current (a dialog is for synchronous tests)."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(coro)
        finally:
            loop.close()


# ------------------------------------------------------------------ the homeserver's side


def matrix_room(
    room_id: str,
    bot_user: str,
    members: Mapping[str, str],
    power_levels: Mapping[str, int] | None = None,
) -> MatrixRoom:
    """The room as the bot's client knows it after a sync: its joined members (the bot
    among them) with their display names ("" for none) and the users' power levels."""
    room = MatrixRoom(room_id, bot_user)
    for user_id, name in {bot_user: "", **members}.items():
        room.add_member(user_id, name or None, None)
    room.power_levels.users.update(power_levels or {})
    return room


def _parsed(
    event_type: str, event_id: str, sender: str, at: dt.datetime, content: dict[str, Any]
) -> Event:
    return Event.parse_event(
        {
            "type": event_type,
            "event_id": event_id,
            "sender": sender,
            "origin_server_ts": int(at.timestamp() * 1000),
            "content": content,
        }
    )


def text_event(
    event_id: str,
    sender: str,
    at: dt.datetime,
    body: str,
    *,
    html: str | None = None,
    mentions: Iterable[str] = (),
    reply_to: str | None = None,
    replaces: str | None = None,
    fallback_star: bool = True,
) -> RoomMessageText:
    """An m.text message as a client sends it: HTML, the intentional mentions
    (m.mentions), a reply, or an edit (m.replace) of `replaces` to `body`."""
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if html is not None:
        content.update(format="org.matrix.custom.html", formatted_body=html)
    if mentions:
        content["m.mentions"] = {"user_ids": list(mentions)}
    if reply_to is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    if replaces is not None:
        # Element's form: "* " before the new text in `body`, the new text on its own.
        content["body"] = ("* " if fallback_star else "") + body
        content["m.new_content"] = {"msgtype": "m.text", "body": body}
        content["m.relates_to"] = {"rel_type": "m.replace", "event_id": replaces}
    event = _parsed("m.room.message", event_id, sender, at, content)
    assert isinstance(event, RoomMessageText), event
    return event


def reaction_event(
    event_id: str, sender: str, at: dt.datetime, key: str, target: str
) -> ReactionEvent:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
    event = _parsed("m.reaction", event_id, sender, at, content)
    assert isinstance(event, ReactionEvent), event
    return event


def poll_response_event(
    event_id: str,
    sender: str,
    at: dt.datetime,
    poll_event_id: str,
    answers: Iterable[str] | None,
) -> UnknownEvent:
    """An answer to a native poll; `answers` None: a client that sent no list of IDs."""
    response: dict[str, Any] = {} if answers is None else {"answers": list(answers)}
    content = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event_id},
        POLL_RESPONSE: response,
    }
    event = _parsed(POLL_RESPONSE, event_id, sender, at, content)
    assert isinstance(event, UnknownEvent), event
    return event


def invite_event(sender: str, bot_user: str, *, direct: bool = False) -> InviteMemberEvent:
    """`sender` invites the bot (to a direct chat: `direct`)."""
    content: dict[str, Any] = {"membership": "invite"}
    if direct:
        content["is_direct"] = True
    event = InviteMemberEvent.from_dict(
        {"type": "m.room.member", "sender": sender, "state_key": bot_user, "content": content}
    )
    assert isinstance(event, InviteMemberEvent), event
    return event
