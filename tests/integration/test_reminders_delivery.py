"""Agreement reminders against a real Synapse, on a test clock that reaches 09:00 shortly.

The bot's clock is set so that Tuesday, 10 March 2026, 09:00 in Berlin (the room's reminder
hour on a working day) falls due a few seconds after the test starts; time runs in real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.devtools.synapse import LocalSynapse
from storage.models import AgreementStatus
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.reminder_helpers import (
    agreement_status,
    bot_messages,
    database,
    insert_agreement,
    room_with_bot,
    shifted_clock,
    start_bot,
    stop_bot,
    wait_for_bot_message,
)

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")
NINE = dt.datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)  # a Tuesday, no holiday in NW
DUE = NINE.date()


async def test_reminder_arrives_at_its_time_mentioning_the_owner_and_not_for_a_done_one(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    lead = 14.0
    clock = shifted_clock(NINE, lead)
    nine_real = time.monotonic() + lead
    bot, task = await start_bot(config, clock=clock)
    try:
        anna = await make_member("anna")
        bot_user = bot.config.user_id
        room = await room_with_bot(anna, bot_user)
        await anna.send(room, "!hilfe")  # the bot has seen the room and its members
        await anna.wait_for_reply(room, bot_user, 0)
        db = database(config)
        first = insert_agreement(
            db,
            room,
            number=1,
            text="Entwurf an das Schulamt",
            due=DUE,
            owners=[anna.user_id],
            created_by=anna.user_id,
            created_at=clock(),
        )
        second = insert_agreement(
            db,
            room,
            number=2,
            text="Tagungsraum für den Fachtag reservieren",
            due=DUE,
            owners=[anna.user_id],
            created_by=anna.user_id,
            created_at=clock(),
        )
        bot.scheduler.poke()
        # #2 is completed before 09:00, by the command members use.
        await anna.send(room, "!erledigt 2")
        await wait_for_bot_message(anna, bot_user, room, "#2 ist erledigt")
        assert agreement_status(db, second) == AgreementStatus.DONE
        assert time.monotonic() < nine_real, "set-up took too long for this test's clock"

        reminder = await wait_for_bot_message(anna, bot_user, room, "Heute fällig", timeout=30)
        arrived = time.monotonic()
        assert nine_real - 0.2 <= arrived <= nine_real + 6, arrived - nine_real
        assert "#1" in reminder.body
        assert "Entwurf an das Schulamt" in reminder.body
        assert "Verspätet" not in reminder.body
        assert reminder.content["msgtype"] == "m.text"  # notices do not notify
        assert reminder.content["m.mentions"] == {"user_ids": [anna.user_id]}
        assert f'href="https://matrix.to/#/{anna.user_id}"' in (reminder.html or "")

        await asyncio.sleep(2.5)
        assert len(bot_messages(anna, bot_user, room, "Heute fällig")) == 1
        about_second = [
            m.body for m in bot_messages(anna, bot_user, room, "Tagungsraum für den Fachtag")
        ]
        assert len(about_second) == 1, "the completed agreement must not be reminded"
        assert "ist erledigt" in about_second[0], "the completed agreement must not be reminded"

        # A ✅ on the reminder marks the agreement done.
        await anna.react(room, reminder.event_id, "✅")
        for _ in range(100):
            if agreement_status(db, first) == AgreementStatus.DONE:
                break
            await asyncio.sleep(0.1)
        assert agreement_status(db, first) == AgreementStatus.DONE
        db.dispose()
    finally:
        await stop_bot(bot, task)


async def test_agreement_completed_while_the_bot_was_down_is_not_reminded_after_restart(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    lead = 15.0
    clock = shifted_clock(NINE, lead)
    nine_real = time.monotonic() + lead
    bot, task = await start_bot(config, clock=clock)
    anna = await make_member("anna")
    bot_user = bot.config.user_id
    room = await room_with_bot(anna, bot_user)
    await anna.send(room, "!hilfe")
    await anna.wait_for_reply(room, bot_user, 0)
    db = database(config)
    done_meanwhile = insert_agreement(
        db,
        room,
        number=1,
        text="Haushalt prüfen",
        due=DUE,
        owners=[anna.user_id],
        created_by=anna.user_id,
        created_at=clock(),
    )
    insert_agreement(
        db,
        room,
        number=2,
        text="Zahlen melden",
        due=DUE,
        owners=[anna.user_id],
        created_by=anna.user_id,
        created_at=clock(),
    )
    await stop_bot(bot, task)
    assert time.monotonic() < nine_real - 1, "set-up took too long for this test's clock"

    await anna.send(room, "!erledigt 1")  # while the bot is down
    await asyncio.sleep(max(0.0, nine_real - time.monotonic()) + 1)  # 09:00 passes

    bot, task = await start_bot(config, clock=clock)
    try:
        await wait_for_bot_message(anna, bot_user, room, "Zahlen melden", timeout=30)
        await wait_for_bot_message(anna, bot_user, room, "#1 ist erledigt", timeout=30)
        await asyncio.sleep(2)
        assert agreement_status(db, done_meanwhile) == AgreementStatus.DONE
        reminded = [m.body for m in bot_messages(anna, bot_user, room, "Heute fällig")]
        assert len(reminded) == 1, reminded
        assert "Zahlen melden" in reminded[0], reminded
    finally:
        db.dispose()
        await stop_bot(bot, task)
