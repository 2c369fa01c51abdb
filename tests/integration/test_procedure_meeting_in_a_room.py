"""A meeting by the rules of procedure in an encrypted room, against a real Synapse: the
roll call answered by a reaction and by `!anwesend`, `!beschlussfähig`, a decision taken
in the meeting, draft minutes; then, on a clock set fifteen days on, the minutes approved
after the period for objections.

The bot first runs on a clock that reads Monday, 9 March 2026, 10:00 in Berlin at the
start; the minutes' last day for objections is then Monday, 23 March. It is restarted on a
clock set so that Tuesday, 24 March, 09:00 (the reminder hour after that day) falls due a
few seconds after the restart.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.reminder_helpers import (
    bot_messages,
    room_with_bot,
    shifted_clock,
    start_bot,
    stop_bot,
    wait_for_bot_message,
)

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")
MEETING_AT = dt.datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)
APPROVAL_AT = dt.datetime(2026, 3, 24, 9, 0, tzinfo=BERLIN)
MOTION = "Zuschuss von 500 Euro für das Sommerfest"


def localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]


async def test_roll_call_quorum_a_decision_and_minutes_approved_after_the_period(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    bot_name = unique("bot")
    synapse.register(bot_name, PASSWORD)
    config = write_config(tmp_path, synapse, bot_name)
    bot, task = await start_bot(config, clock=shifted_clock(MEETING_AT, 0))
    try:
        bot_user = bot.config.user_id
        # Anna creates the room: she chairs it (power level 100). Every member votes.
        anna = await make_member("anna")
        ben = await make_member("ben")
        carla = await make_member("carla")
        room = await room_with_bot(anna, bot_user, "Bildungskonferenz", encrypted=True)
        for member in (ben, carla):
            await anna.invite(room, member.user_id)
            await member.join(room)
            await anna.wait_for_member(room, member.user_id)
        client = bot.client
        assert client is not None
        await anna.wait_until(
            lambda: {ben.user_id, carla.user_id} <= set(client.rooms[room].users), timeout=20
        )

        await anna.send(room, "!sitzung start Frühjahrssitzung")
        started = await wait_for_bot_message(anna, bot_user, room, "Sitzung #1 läuft")
        assert started.decrypted
        assert "Bitte bestätigen Sie Ihre Anwesenheit: ✅ auf diese Nachricht" in started.body

        # Ben answers the roll call with ✅ on that message, Carla with `!anwesend`.
        await ben.react(room, started.event_id, "✅")
        await carla.send(room, "!anwesend")
        confirmed = await wait_for_bot_message(carla, bot_user, room, "Als anwesend eingetragen")
        assert localpart(carla.user_id) in confirmed.body
        assert "3 von 3 stimmberechtigten Mitgliedern anwesend – beschlussfähig" in (confirmed.body)
        await anna.send(room, "!beschlussfähig")
        quorum = await wait_for_bot_message(anna, bot_user, room, "Anwesend (3):")
        assert quorum.body.startswith(
            "3 von 3 stimmberechtigten Mitgliedern anwesend – beschlussfähig (Geschäftsordnung: "
            "mehr als die Hälfte der stimmberechtigten Mitglieder, also mindestens 2)"
        )
        for member in (anna, ben, carla):
            assert localpart(member.user_id) in quorum.body

        # A decision in the meeting, checked against the quorum of the roll call.
        await anna.send(room, f"!beschluss {MOTION} ja 3 nein 0 enthaltung 0")
        decided = await wait_for_bot_message(anna, bot_user, room, "Beschluss 2026/1 festgehalten")
        assert "3 von 3 stimmberechtigten Mitgliedern anwesend" in decided.body

        await anna.send(room, "!sitzung ende")
        minutes = await wait_for_bot_message(anna, bot_user, room, "Ergebnisprotokoll")
        assert minutes.decrypted
        assert (
            "📝 Entwurf – Einspruch bis Mo., 23. März 2026 mit `!einspruch 1 <Grund>`"
            in minutes.body
        )
        present = minutes.body.split("Anwesend (3): ", 1)[1].split("\n", 1)[0]
        for member in (anna, ben, carla):
            assert localpart(member.user_id) in present
        assert "Abwesend" not in minutes.body
        assert "Beschluss 2026/1" in minutes.body
        assert MOTION in minutes.body
    finally:
        await stop_bot(bot, task)

    # Fifteen days on: nobody objected, and the bot says the minutes are approved.
    lead = 15.0
    bot, task = await start_bot(config, clock=shifted_clock(APPROVAL_AT, lead))
    try:
        approved = await wait_for_bot_message(
            ben, bot_user, room, "ist genehmigt", timeout=lead + 45
        )
        assert approved.decrypted
        assert approved.body == (
            "✅ Das Protokoll der Sitzung #1 ist genehmigt: Bis Mo., 23. März 2026 hat niemand "
            "Einspruch erhoben."
        )
        await ben.send(room, "!sitzung protokoll 1")
        shown = await wait_for_bot_message(ben, bot_user, room, "Genehmigt am")
        assert "✅ Genehmigt am Di., 24. März 2026: bis Mo., 23. März 2026" in shown.body
        assert "Entwurf" not in shown.body
        await ben.send(room, "!einspruch 1 Punkt 3 fehlt")
        refused = await wait_for_bot_message(ben, bot_user, room, "ein Einspruch ist nicht mehr")
        assert "(Geschäftsordnung: Einspruch innerhalb von 14 Tagen nach der Sitzung)" in (
            refused.body
        )
        assert len(bot_messages(ben, bot_user, room, "ist genehmigt")) == 1
    finally:
        await stop_bot(bot, task)
