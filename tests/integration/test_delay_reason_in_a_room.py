"""A delay told and reported, against a real Synapse: the agreement turns overdue, the
reminder asks its owner once for a reason, the owner names their office and the reason,
and the chair's status report (`!bericht`) shows office, reason and state, never the
owner's name.

The bot's clock is set so that Tuesday, 10 March 2026, 09:00 in Berlin (the first overdue
reminder of an agreement due a week before) falls due a few seconds after the start.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.devtools.member import SeenMessage
from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.reminder_helpers import (
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
DUE = NINE.date() - dt.timedelta(days=7)
OFFICE = "Amt 40 – Schulverwaltung"
REASON = "Zahlen des Landesamts kommen erst im April"


async def test_overdue_owner_gives_a_reason_and_the_chairs_report_shows_office_reason_state(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    clock = shifted_clock(NINE, 12.0)
    bot, task = await start_bot(config, clock=clock)
    try:
        # Anna creates the room: she is its chair (power level 100); Ben owns the item.
        anna = await make_member("anna")
        ben = await make_member("ben")
        bot_user = bot.config.user_id
        room = await room_with_bot(anna, bot_user, "Schulausschuss", encrypted=True)
        await anna.invite(room, ben.user_id)
        await ben.join(room)
        await anna.wait_for_member(room, ben.user_id)
        await anna.send(room, "!hilfe")  # the bot has seen the room and its members
        await anna.wait_for_reply(room, bot_user, 0)
        db = database(config)
        insert_agreement(
            db,
            room,
            number=1,
            text="Zahlen an das Landesamt melden",
            due=DUE,
            owners=[ben.user_id],
            created_by=anna.user_id,
            created_at=clock() - dt.timedelta(days=20),
        )
        db.dispose()
        bot.scheduler.poke()

        # The first overdue reminder mentions Ben and asks him, once, for a reason.
        reminder = await wait_for_bot_message(ben, bot_user, room, "!grund 1", timeout=40)
        assert "Zahlen an das Landesamt melden" in reminder.body
        assert reminder.content["m.mentions"] == {"user_ids": [ben.user_id]}

        await ben.send(room, f"!amt {OFFICE}")
        await wait_for_bot_message(ben, bot_user, room, "Ihr Amt ist jetzt")
        await ben.send(room, f"!grund 1 {REASON}")
        await wait_for_bot_message(ben, bot_user, room, "Grund der Verzögerung bei #1 gespeichert")

        # The chair's report of this year: office, due date, state and reason; no person.
        asked = await anna.send(room, "!bericht dieses Jahr")

        def answers() -> list[SeenMessage]:
            return [m for m in anna.messages_from(bot_user, room) if m.in_reply_to == asked]

        await anna.wait_until(lambda: bool(answers()), timeout=30)
        report = answers()[0]
        assert report.decrypted
        assert report.body.startswith("Beschlusskontrolle")
        [line] = [li for li in report.body.splitlines() if "Zahlen an das Landesamt" in li]
        assert OFFICE in line
        assert REASON in line
        assert "überfällig" in line
        assert "03.03.2026" in line
        for person in (ben.user_id, anna.user_id):
            assert person not in report.body
            assert person[1:].split(":")[0] not in report.body
        assert len(bot_messages(ben, bot_user, room, "!grund 1")) == 1
    finally:
        await stop_bot(bot, task)
