"""A committee day in half a minute: 8 rooms (2 encrypted), 30 members, ~150 commands, reminders
and the weekly digest falling due — every command answered once, every reminder posted
once, nothing lost. The load version with figures: tests/benchmarks/bench_committee_day.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.committee_day import (
    DaySize,
    check_day,
    clock_offset,
    run_day,
    wait_until_done,
)
from tests.integration.load_rooms import wait_until_bot_joined
from tests.integration.load_scene import load_scene

pytestmark = pytest.mark.synapse

SIZE = DaySize(rooms=8, users=30, encrypted_rooms=2, commands_per_room=19, seconds=20)


async def test_a_committee_day_every_command_answered_once_nothing_lost(tmp_path: Path) -> None:
    async with load_scene(
        tmp_path, rooms=SIZE.rooms, users=SIZE.users, encrypted_rooms=SIZE.encrypted_rooms
    ) as scene:
        # Monday 09:00 (digest, agreements' reminders) halfway through the members' day.
        offset = clock_offset(10 + SIZE.seconds / 2)
        bot = scene.bot(clock_offset=offset)
        bot.start()
        await bot.wait_ready()
        await wait_until_bot_joined(scene.cast, scene.bot_user)
        sent = await run_day(scene.cast, SIZE)
        db = bot.database()
        await wait_until_done(db, sent, offset, timeout=120)
        result = await check_day(scene.cast, sent, db, scene.bot_user, bot.errors())
        db.dispose()
        print("\n" + result.figures())
        assert len(sent) == SIZE.rooms * SIZE.commands_per_room
        assert not result.problems, "\n".join(result.problems[:30])
