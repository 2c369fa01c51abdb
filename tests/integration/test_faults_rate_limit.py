"""The homeserver throttles the bot hard while the weekly digest falls due during a burst.

The homeserver lets every user send 2 messages a second after a burst of 3 (Synapse's
`rc_message`; its default is 0.2 a second after 10). Monday 09:00, when the weekly digest
of two committee rooms falls due, comes (on the bot's clock) while four members send a
burst of twenty commands to those rooms. This test runs its own homeserver.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from nio import RoomSendError
from sqlmodel import select

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from storage.models.reminders import ReminderLog
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.fault_helpers import (
    assert_agreements_stored_once,
    assert_answered_once_in_order,
    assert_posted_what_the_outbox_holds,
    committee,
    expected_answer,
    from_bot,
    meeting_script,
    send,
    send_script,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import database, shifted_clock, start_bot, stop_bot

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_NINE = dt.datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN)  # week 11, no holiday
RATE = (2.0, 3)  # messages per second, burst
BURST = 20
LEAD = 16.0  # seconds of set-up before 09:00 on the bot's clock


async def test_digest_and_a_burst_of_commands_under_a_tight_rate_limit_are_delayed_not_dropped(
    tmp_path: Path,
) -> None:
    """Afterwards: each room's digest posted exactly once; every command answered exactly
    once, in the order sent; agreements stored once; the rooms hold exactly what the
    outbox says was sent; and the homeserver did refuse the bot (429) on the way."""
    server = LocalSynapse(tmp_path / "hs", rc_message=RATE)
    await asyncio.to_thread(server.start)
    try:
        throttled = await _scenario(server, tmp_path)
    finally:
        await asyncio.to_thread(server.stop)
    assert throttled > 0, "the homeserver never throttled the bot: the test did not test it"
    print(f"the homeserver refused the bot's messages {throttled} times (429)")


async def _scenario(server: LocalSynapse, tmp_path: Path) -> int:
    """Runs the scenario, checks what must hold; returns how often the bot was refused."""
    members: list[Member] = []
    server.register("bot", PASSWORD)
    config = write_config(tmp_path, server, "bot")
    clock = shifted_clock(MONDAY_NINE, LEAD)
    nine_real = time.monotonic() + LEAD
    bot, task = await start_bot(config, clock=clock)
    bot_user = bot.config.user_id
    refused: list[RoomSendError] = []

    async def count_refusal(resp: RoomSendError) -> None:
        if resp.status_code == "M_LIMIT_EXCEEDED":
            refused.append(resp)

    assert bot.client is not None
    bot.client.add_response_callback(count_refusal, RoomSendError)
    try:
        for name in ("anna", "ben", "cara", "dora"):
            member = Member(server.url, server.register(name, PASSWORD), PASSWORD, tmp_path / name)
            await member.login()
            members.append(member)
        rooms = list(
            await asyncio.gather(*(committee(members, bot_user, f"Gremium {i}") for i in range(2)))
        )
        # Each room's meeting: its first agreement before 09:00 (so the digest has
        # something to list), the rest as the burst.
        scripts = {
            room: meeting_script(f"R{i}", BURST // 2 + 1, len(members), offset=i)
            for i, room in enumerate(rooms)
        }
        sent = {
            room: [await send(members[s[0].sender], room, s[0].body, retry=True)]
            for room, s in scripts.items()
        }
        await wait_for_answers(members[0], bot_user, sent, timeout=60)
        assert time.monotonic() < nine_real - 2, "set-up took too long for this test's clock"

        await asyncio.sleep(nine_real - 1 - time.monotonic())  # the burst begins at 08:59:59
        ids = await asyncio.gather(
            *(send_script(members, room, s[1:], retry=True) for room, s in scripts.items())
        )
        for room, more in zip(scripts, ids, strict=True):
            sent[room] += more

        await wait_for_answers(
            members[0],
            bot_user,
            sent,
            timeout=120,
            also=lambda said: all(from_bot(said[r], bot_user, "Wochenüberblick") for r in rooms),
        )
        said = await settled(members[0], rooms)
    finally:
        for m in members:
            await m.close()
        await stop_bot(bot, task)

    db = database(config)
    try:
        for room, script in scripts.items():
            assert_answered_once_in_order(
                said[room], bot_user, sent[room], expect=expected_answer(script)
            )
            [digest] = from_bot(said[room], bot_user, "Wochenüberblick")
            assert "KW 11" in digest.body, digest.body
            assert "Punkt" in digest.body, digest.body
            assert_agreements_stored_once(db, room, script)
            assert_posted_what_the_outbox_holds(db, room, said[room], bot_user)
        with db.session() as s:
            assert len(s.exec(select(ReminderLog)).all()) == len(rooms)
    finally:
        db.dispose()
    return len(refused)
