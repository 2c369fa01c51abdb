"""A committee day in half a minute: 8 rooms (2 encrypted), 30 members, ~150 commands, reminders
and the weekly digest falling due — every command answered once, every reminder posted
once, nothing lost. The load version with figures: tests/benchmarks/bench_committee_day.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.devtools.synapse import LocalSynapse
from tests.integration.bot_process import BotProcess
from tests.integration.committee_day import (
    DaySize,
    check_day,
    clock_offset,
    run_day,
    wait_until_done,
)
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.load_rooms import FAST_LOGIN, build_cast, wait_until_bot_joined

pytestmark = pytest.mark.synapse

SIZE = DaySize(rooms=8, users=30, encrypted_rooms=2, commands_per_room=19, seconds=20)


async def test_a_committee_day_every_command_answered_once_nothing_lost(tmp_path: Path) -> None:
    server = LocalSynapse(tmp_path / "hs", extra_config=FAST_LOGIN)
    await asyncio.to_thread(server.start)
    bot: BotProcess | None = None
    cast = None
    try:
        bot_user = await asyncio.to_thread(server.register, "bot", PASSWORD)
        config = write_config(tmp_path, server, "bot")
        cast = await build_cast(
            server,
            bot_user,
            tmp_path / "stores",
            rooms=SIZE.rooms,
            users=SIZE.users,
            encrypted_rooms=SIZE.encrypted_rooms,
        )
        # Monday 09:00 (digest, agreements' reminders) halfway through the members' day.
        offset = clock_offset(10 + SIZE.seconds / 2)
        bot = BotProcess(config, clock_offset=offset)
        bot.start()
        await bot.wait_ready()
        await wait_until_bot_joined(cast, bot_user)
        sent = await run_day(cast, SIZE)
        db = bot.database()
        await wait_until_done(db, sent, offset, timeout=120)
        result = await check_day(cast, sent, db, bot_user, bot.errors())
        db.dispose()
        print("\n" + result.figures())
        assert len(sent) == SIZE.rooms * SIZE.commands_per_room
        assert not result.problems, "\n".join(result.problems[:30])
    finally:
        if bot is not None:
            bot.stop()
        if cast is not None:
            await cast.close()
        await asyncio.to_thread(server.stop)
