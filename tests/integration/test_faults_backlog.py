"""The bot is down while ten committees keep working; when it starts, it catches up.

Three hundred commands go to ten rooms while the bot is stopped: one busy room gets more
than one sync carries (its gap is filled by paging back), the others a meeting's worth.
(A gap longer than the catch-up horizon is tested in test_catchup.py.)
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.devtools.synapse import LocalSynapse
from bot.runtime.sync import TIMELINE_LIMIT
from tests.integration.conftest import PASSWORD, unique, write_config
from tests.integration.fault_helpers import (
    MemberFactory,
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
