"""The bot keeps working when the homeserver throttles it or goes away for a while."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.config import load_config
from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from bot.runtime.app import GremienBot
from tests.integration.conftest import PASSWORD, BotFactory, MemberFactory, write_config

pytestmark = pytest.mark.synapse


async def _start_bot(tmp_path: Path, server: LocalSynapse) -> tuple[GremienBot, asyncio.Task[None]]:
    server.register("bot", PASSWORD)
    bot = GremienBot(
        load_config(write_config(tmp_path, server, "bot")), sync_timeout_ms=1000, max_retry_wait=1
    )
    await bot.start()
    task = asyncio.create_task(bot.run())
    await asyncio.wait_for(bot.ready.wait(), timeout=30)
    return bot, task


async def _stop(bot: GremienBot, task: asyncio.Task[None]) -> None:
    bot.stop()
    await asyncio.wait_for(task, timeout=30)


async def test_bot_waits_out_the_rate_limit_and_answers_every_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nio")
    # A real limit: 2 messages a second after a burst of 3, for every user here.
    server = LocalSynapse(tmp_path / "hs", rc_message=(2.0, 3))
    await asyncio.to_thread(server.start)
    try:
        bot, task = await _start_bot(tmp_path, server)
        anna_id = server.register("anna", PASSWORD)
        anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
        await anna.login()
        room = await anna.create_room("Gremium", invite=(bot.config.user_id,))
        await anna.wait_for_member(room, bot.config.user_id)
        for i in range(6):
            for _ in range(20):  # the member is throttled too: retry like a client would
                try:
                    await anna.send(room, f"!hilfe einstellungen {i}")
                    break
                except RuntimeError:
                    await asyncio.sleep(0.5)
        await anna.wait_for_reply(room, bot.config.user_id, 5, timeout=60)
        await asyncio.sleep(1)
        assert len(anna.messages_from(bot.config.user_id, room)) == 6
        assert any("429" in r.getMessage() for r in caplog.records), "the limit was never hit"
        await anna.close()
        await _stop(bot, task)
    finally:
        await asyncio.to_thread(server.stop)


async def test_bot_survives_the_homeserver_going_away_and_answers_afterwards(
    tmp_path: Path,
) -> None:
    server = LocalSynapse(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    try:
        bot, task = await _start_bot(tmp_path, server)
        anna_id = server.register("anna", PASSWORD)
        anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
        await anna.login()
        room = await anna.create_room("Gremium", invite=(bot.config.user_id,))
        await anna.wait_for_member(room, bot.config.user_id)
        await anna.send(room, "!hilfe")
        await anna.wait_for_reply(room, bot.config.user_id, 0)

        await asyncio.to_thread(server.stop)
        await asyncio.sleep(3)  # several failed syncs with backoff
        assert not task.done(), "the bot must not die when the homeserver is gone"
        await asyncio.to_thread(server.start)

        await anna.send(room, "!einstellungen")
        answer = await anna.wait_for_reply(room, bot.config.user_id, 1, timeout=60)
        assert "Sprache: Deutsch" in answer.body
        await anna.close()
        await _stop(bot, task)
    finally:
        await asyncio.to_thread(server.stop)


async def test_commands_from_before_the_bot_joined_are_not_answered(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await anna.create_room("Gremium")
    await anna.send(room, "!hilfe")  # history the bot can read but must not act on
    await anna.invite(room, bot.user_id)
    await anna.wait_for_member(room, bot.user_id)
    await anna.send(room, "!einstellungen")
    first = await anna.wait_for_reply(room, bot.user_id, 0)
    await asyncio.sleep(1.5)
    assert "Sprache" in first.body
    assert len(anna.messages_from(bot.user_id, room)) == 1
