"""The bot is down while ten committees keep working; when it starts, it catches up.

Three hundred commands go to ten rooms while the bot is stopped: one busy room gets more
than one sync carries (its gap is filled by paging back), the others a meeting's worth.
(A gap longer than the catch-up horizon is tested in test_catchup.py.)
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessagesError

from bot.config import load_config
from bot.devtools.synapse import LocalSynapse
from bot.runtime.app import GremienBot
from bot.runtime.sync import TIMELINE_LIMIT
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.fault_helpers import (
    assert_agreements_stored_once,
    assert_answered_once_in_order,
    assert_posted_what_the_outbox_holds,
    committee,
    expected_answer,
    meeting_script,
    send_script,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import database, start_bot, stop_bot

pytestmark = pytest.mark.synapse

COMMANDS = 300
ROOMS = 10
BUSY_ROOM = TIMELINE_LIMIT + 34  # more than one sync carries: paged back


async def test_three_hundred_commands_sent_to_ten_rooms_while_the_bot_was_down_are_answered_once(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Afterwards: every command answered by exactly one message, in the order sent within
    its room; agreements numbered in that order and stored once with their history; the
    rooms hold exactly what the outbox says was sent."""
    caplog.set_level(logging.INFO, logger="bot.runtime.pipeline")
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot, task = await start_bot(config)
    bot_user = bot.config.user_id
    members = list(await asyncio.gather(*(make_member(n) for n in ("anna", "ben", "cara"))))
    rooms = list(
        await asyncio.gather(*(committee(members, bot_user, f"Gremium {i}") for i in range(ROOMS)))
    )
    await stop_bot(bot, task)

    quiet = (COMMANDS - BUSY_ROOM) // (ROOMS - 1)
    sizes = [BUSY_ROOM] + [quiet] * (ROOMS - 1)
    sizes[-1] += COMMANDS - sum(sizes)
    scripts = {
        room: meeting_script(f"B{i}", sizes[i], len(members), offset=i)
        for i, room in enumerate(rooms)
    }
    ids = await asyncio.gather(
        *(send_script(members, room, script) for room, script in scripts.items())
    )
    sent = dict(zip(scripts, ids, strict=True))
    assert sum(len(v) for v in sent.values()) == COMMANDS

    bot, task = await start_bot(config)
    try:
        await wait_for_answers(members[0], bot_user, sent, timeout=180)
        said = await settled(members[0], rooms)
    finally:
        await stop_bot(bot, task)
    db = database(config)
    try:
        for room, script in scripts.items():
            assert_answered_once_in_order(
                said[room], bot_user, sent[room], expect=expected_answer(script)
            )
            assert_agreements_stored_once(db, room, script)
            assert_posted_what_the_outbox_holds(db, room, said[room], bot_user)
    finally:
        db.dispose()
    assert any(
        "filled a gap" in r.getMessage() and rooms[0] in r.getMessage() for r in caplog.records
    )


async def test_a_gap_the_homeserver_will_not_page_back_for_a_while_is_filled_when_it_does(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    """While the bot was away, more was said than one sync carries; when it pages back,
    the first requests fail (as when a reverse proxy answers 502 Bad Gateway while the
    homeserver behind it restarts). Afterwards every command is answered once, in order:
    the gap is paged again, not skipped."""
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot, task = await start_bot(config)
    bot_user = bot.config.user_id
    anna = await make_member("anna")
    room = await committee([anna], bot_user, "Gremium")
    await stop_bot(bot, task)
    script = meeting_script("G", TIMELINE_LIMIT + 15, 1)
    sent = await send_script([anna], room, script)

    bot = GremienBot(load_config(config), sync_timeout_ms=1000, max_retry_wait=1.0)
    await bot.start()
    assert bot.client is not None
    page_back = bot.client.room_messages
    refused: list[str] = []

    async def bad_gateway(room_id: str, *args: Any, **kwargs: Any) -> Any:
        if len(refused) < 3:
            refused.append(room_id)
            return RoomMessagesError("502 Bad Gateway", room_id=room_id)
        return await page_back(room_id, *args, **kwargs)

    bot.client.room_messages = bad_gateway
    task = asyncio.create_task(bot.run())
    try:
        await wait_for_answers(anna, bot_user, {room: sent}, timeout=120)
        said = (await settled(anna, [room]))[room]
    finally:
        await stop_bot(bot, task)
    assert refused == [room] * 3
    assert_answered_once_in_order(said, bot_user, sent, expect=expected_answer(script))
