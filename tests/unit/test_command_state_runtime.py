"""The commands as room state at work (bot/runtime/command_state.py): the bot joins a
committee room, a chair switches the room to English, the bot restarts; the homeserver
is a client that keeps each room's state and refuses what the power levels forbid."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from nio import (
    Event,
    RoomGetStateError,
    RoomGetStateResponse,
    RoomPutStateError,
    RoomPutStateResponse,
)
from sqlmodel import select

from bot.runtime.command_state import (
    CommandState,
    may_send,
    planned_updates,
    structured_command,
)
from bot.runtime.events import EventHandlers
from bot.runtime.incoming import BotSettings
from commands.core.command_state import (
    FUNCTIONAL_MEMBERS_TYPE,
    MSC4332_TYPE,
    MSC4391_TYPE,
    command_events,
    msc4391_state_key,
)
from commands.core.defaults import Defaults
from storage.db import Database
from storage.models import OutboxMessage
from tests.dialog import ANNA, BOT, CHAIR, NOW_FOR_TESTS, REGISTRY, ROOM
from tests.dialog_bot import DialogBot, LocalClient, invite_event, matrix_room, text_event

OTHER_BOT = "@protokollbot:example.org"
POWER_LEVELS = "m.room.power_levels"


def room_state(*, bot_level: int, events: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """A committee room as Synapse makes it (state_default 50), Anna its creator, the
    bot at `bot_level`, another bot already listed as a service member."""
    return [
        {
            "type": "m.room.create",
            "state_key": "",
            "sender": ANNA,
            "content": {"room_version": "10", "creator": ANNA},
        },
        {
            "type": POWER_LEVELS,
            "state_key": "",
            "sender": ANNA,
            "content": {
                "users": {ANNA: 100, CHAIR: 50, BOT: bot_level},
                "users_default": 0,
                "state_default": 50,
                "events": events or {},
            },
        },
        {
            "type": FUNCTIONAL_MEMBERS_TYPE,
            "state_key": "",
            "sender": ANNA,
            "content": {"service_members": [OTHER_BOT]},
        },
    ]


class Homeserver(LocalClient):
    """The bot's client against a homeserver that keeps each room's state, and what the
    bot sent to it; it refuses a state event the power levels forbid, as Synapse does."""

    def __init__(self, state: list[dict[str, Any]]) -> None:
        super().__init__(BOT)
        self.state: dict[tuple[str, str], dict[str, Any]] = {
            (e["type"], e["state_key"]): e for e in state
        }
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.broken = False
        self._ids = itertools.count(1)

    async def room_get_state(self, room_id: str) -> RoomGetStateResponse | RoomGetStateError:
        if self.broken:
            raise ConnectionError("homeserver unreachable")
        return RoomGetStateResponse([dict(e) for e in self.state.values()], room_id)

    async def room_put_state(
        self, room_id: str, event_type: str, content: dict[Any, Any], state_key: str = ""
    ) -> RoomPutStateResponse | RoomPutStateError:
        if not may_send(self.state, BOT, event_type):
            return RoomPutStateError("not allowed", "M_FORBIDDEN")
        self.sent.append((event_type, state_key, content))
        self.state[(event_type, state_key)] = {
            "type": event_type,
            "state_key": state_key,
            "sender": BOT,
            "content": content,
        }
        return RoomPutStateResponse(f"$state{next(self._ids)}", room_id)

    def content(self, event_type: str, state_key: str) -> dict[str, Any] | None:
        found = self.state.get((event_type, state_key))
        return None if found is None else found["content"]

    def commands(self) -> set[str]:
        """The commands the room's MSC4391 descriptions offer now."""
        return {
            e["content"]["command"]
            for (kind, _), e in self.state.items()
            if kind == MSC4391_TYPE and e["content"]
        }

    def set_bot_level(self, level: int) -> None:
        self.state[(POWER_LEVELS, "")]["content"]["users"][BOT] = level


class Bot:
    """The bot's event handlers with a CommandState, all on one event loop (unlike a
    dialog's bot, a publication outlives the event that started it)."""

    def __init__(self, db: Database, server: Homeserver) -> None:
        self.server = server
        self.dialog_bot = DialogBot(
            db, _settings(), lambda: NOW_FOR_TESTS, bot_user=BOT
        )  # its database thread, sender and config
        runtime = self.dialog_bot.runtime
        self.command_state = CommandState(
            db,
            runtime.dbt,
            registry=REGISTRY,
            prefix="!",
            bot_user=BOT,
            default_language=Defaults().language,
        )
        runtime.settings = dataclasses.replace(
            runtime.settings, language_changed=self.command_state.language_changed
        )
        runtime.command_state = self.command_state
        self.handlers = EventHandlers(runtime, server)
        self.room = matrix_room(ROOM, BOT, {ANNA: "Anna", CHAIR: "Vorsitz"}, {CHAIR: 50})
        server.rooms[ROOM] = self.room
        self._ids = itertools.count(1)

    async def joined(self) -> None:
        self.command_state.bind(self.server)
        await self.handlers.on_invite(self.room, invite_event(ANNA, BOT))
        await self.command_state.settled()

    async def says(self, sender: str, body: str) -> None:
        await self.receives(text_event(f"$ev{next(self._ids)}", sender, NOW_FOR_TESTS, body))

    async def receives(self, event: Event) -> None:
        await self.handlers.handle(ROOM, event)
        await self.command_state.settled()

    async def restarted(self) -> None:
        self.command_state.refresh_all([ROOM])
        await self.command_state.settled()


def _settings() -> BotSettings:
    return BotSettings(
        server_name="example.org",
        prefix="!",
        coordinators=frozenset(),
        registry=REGISTRY,
        defaults=Defaults(),
        bot_user=BOT,
    )


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def answers(db: Database) -> list[str]:
    with db.session() as s:
        return [row.content for row in s.exec(select(OutboxMessage))]


def test_joining_publishes_the_commands_in_german_and_lists_the_bot_as_service_member(
    sqlite_db: Database,
) -> None:
    server = Homeserver(room_state(bot_level=50))

    async def scenario() -> None:
        await Bot(sqlite_db, server).joined()

    run(scenario)
    wanted = command_events(REGISTRY, "de", prefix="!", bot_user=BOT)
    for event in wanted:
        assert server.content(event.event_type, event.state_key) == event.content
    assert "liste" in server.commands()
    assert "list" not in server.commands()
    assert server.content(MSC4332_TYPE, BOT)["sigil"] == "!"  # type: ignore[index]
    # Element leaves the bot out of the room's name; the other bot stays listed.
    members = server.content(FUNCTIONAL_MEMBERS_TYPE, "")
    assert members == {"service_members": [OTHER_BOT, BOT]}
    assert len(server.sent) == len(wanted) + 1


def test_a_restart_or_a_second_publication_sends_nothing(sqlite_db: Database) -> None:
    server = Homeserver(room_state(bot_level=50))

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        server.sent.clear()
        await bot.restarted()
        await bot.restarted()

    run(scenario)
    assert server.sent == []


def test_without_the_power_level_nothing_is_sent_and_help_is_still_answered(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    server = Homeserver(room_state(bot_level=0))

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        await bot.says(ANNA, "!hilfe")

    with caplog.at_level(logging.WARNING):
        run(scenario)
    assert server.sent == []
    assert server.commands() == set()
    assert not any("could not send" in r.getMessage() for r in caplog.records)
    assert any("Gremienbot – Hilfe" in content for content in answers(sqlite_db))


def test_where_the_room_allows_only_the_service_members_list_only_that_is_sent(
    sqlite_db: Database,
) -> None:
    server = Homeserver(room_state(bot_level=0, events={FUNCTIONAL_MEMBERS_TYPE: 0}))

    async def scenario() -> None:
        await Bot(sqlite_db, server).joined()

    run(scenario)
    assert [(kind, key) for kind, key, _ in server.sent] == [(FUNCTIONAL_MEMBERS_TYPE, "")]


def test_switching_the_room_to_english_publishes_english_commands_and_withdraws_german(
    sqlite_db: Database,
) -> None:
    server = Homeserver(room_state(bot_level=50))

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        server.sent.clear()
        await bot.says(CHAIR, "!einstellungen sprache en")

    run(scenario)
    english = command_events(REGISTRY, "en", prefix="!", bot_user=BOT)
    for event in english:
        assert server.content(event.event_type, event.state_key) == event.content
    assert "list" in server.commands()
    assert "liste" not in server.commands()
    # The German descriptions are withdrawn (emptied), the service members left alone.
    assert server.content(MSC4391_TYPE, msc4391_state_key("liste", BOT)) == {}
    assert all(kind != FUNCTIONAL_MEMBERS_TYPE for kind, _, _ in server.sent)
    summary = server.content(MSC4332_TYPE, BOT)["commands"][0]["description"]  # type: ignore[index]
    assert summary == {"m.text": [{"body": "show help"}]}


def test_a_refused_language_change_and_other_settings_publish_nothing(
    sqlite_db: Database,
) -> None:
    server = Homeserver(room_state(bot_level=50))

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        server.sent.clear()
        await bot.says(ANNA, "!einstellungen sprache en")  # a member may not
        await bot.says(CHAIR, "!einstellungen zeitzone Europe/Vienna")
        await bot.says(CHAIR, "!einstellungen sprache deutsch")  # German already
        await bot.says(ANNA, "!liste")

    run(scenario)
    assert server.sent == []


def test_the_power_level_given_later_lets_the_next_publication_send(
    sqlite_db: Database,
) -> None:
    server = Homeserver(room_state(bot_level=0))

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        assert server.sent == []
        server.set_bot_level(50)
        await bot.restarted()  # as the sync showing the new power levels does

    run(scenario)
    assert "liste" in server.commands()


def test_an_unreachable_homeserver_costs_no_answer(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    server = Homeserver(room_state(bot_level=50))
    server.broken = True

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        await bot.says(CHAIR, "!einstellungen sprache en")

    with caplog.at_level(logging.ERROR):
        run(scenario)
    assert server.sent == []
    assert any("publishing the commands" in r.getMessage() for r in caplog.records)
    assert any("Language is now English" in content for content in answers(sqlite_db))


def test_only_the_bots_own_descriptions_are_withdrawn() -> None:
    state = room_state(bot_level=50)
    stale = {"command": "alt"}
    state.append(
        {
            "type": MSC4391_TYPE,
            "state_key": msc4391_state_key("alt", BOT),
            "sender": BOT,
            "content": stale,
        }
    )
    state.append(
        {
            "type": MSC4391_TYPE,
            "state_key": msc4391_state_key("protokoll", OTHER_BOT),
            "sender": OTHER_BOT,
            "content": {"command": "protokoll"},
        }
    )
    wanted = command_events(REGISTRY, "de", prefix="!", bot_user=BOT)
    updates = planned_updates(state, wanted, bot_user=BOT)
    withdrawn = [u for u in updates if u.content == {}]
    assert [(u.event_type, u.state_key) for u in withdrawn] == [
        (MSC4391_TYPE, msc4391_state_key("alt", BOT))
    ]


def test_power_levels_are_read_as_the_spec_says() -> None:
    def allowed(levels: dict[str, Any] | None, event_type: str = MSC4391_TYPE) -> bool:
        state = [e for e in room_state(bot_level=0) if e["type"] != POWER_LEVELS]
        if levels is not None:
            state.append({"type": POWER_LEVELS, "state_key": "", "content": levels})
        return may_send({(e["type"], e["state_key"]): e for e in state}, BOT, event_type)

    assert allowed(None)  # no power levels at all: state needs level 0
    assert not allowed({"users": {BOT: 49}})  # state_default defaults to 50
    assert allowed({"users": {BOT: "50"}})  # an old room's level as a string
    assert allowed({"users_default": 60})
    assert allowed({"users": {BOT: 10}, "state_default": 10})
    assert not allowed({"users": {BOT: 50}, "events": {MSC4391_TYPE: 100}})
    only_members = {"users": {BOT: 0}, "events": {FUNCTIONAL_MEMBERS_TYPE: 0}}
    assert allowed(only_members, FUNCTIONAL_MEMBERS_TYPE)
    assert not allowed(only_members)


def test_a_command_picked_in_a_client_runs_as_if_typed() -> None:
    picked = {
        "msgtype": "m.text",
        "body": "/liste meine",
        "m.mentions": {"user_ids": [BOT]},
        "org.matrix.msc4391.command": {"command": "liste", "arguments": {"angaben": "meine"}},
    }
    assert structured_command(picked, bot_user=BOT, prefix="!") == "!liste meine"
    alone = {**picked, "org.matrix.msc4391.command": {"command": "tagesordnung"}}
    assert structured_command(alone, bot_user=BOT, prefix="!") == "!tagesordnung"
    # Meant for another bot, or no invocation: the body stands as written.
    other = {**picked, "m.mentions": {"user_ids": [OTHER_BOT]}}
    assert structured_command(other, bot_user=BOT, prefix="!") is None
    assert structured_command({"body": "!liste"}, bot_user=BOT, prefix="!") is None


def test_a_member_who_picks_a_command_in_the_client_gets_its_answer(sqlite_db: Database) -> None:
    server = Homeserver(room_state(bot_level=50))
    picked = Event.parse_event(
        {
            "type": "m.room.message",
            "event_id": "$picked",
            "sender": ANNA,
            "origin_server_ts": int(NOW_FOR_TESTS.timestamp() * 1000),
            "content": {
                "msgtype": "m.text",
                "body": "/tagesordnung",  # the client's own text, not the bot's prefix
                "m.mentions": {"user_ids": [BOT]},
                "org.matrix.msc4391.command": {"command": "tagesordnung"},
            },
        }
    )

    async def scenario() -> None:
        bot = Bot(sqlite_db, server)
        await bot.joined()
        await bot.receives(picked)

    run(scenario)
    assert any("Tagesordnung" in content for content in answers(sqlite_db)[1:])
