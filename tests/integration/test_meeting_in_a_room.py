"""A committee meeting in an encrypted room, from plan to minutes to the follow-up agenda.

The bot's clock is set so that Thursday, 2 April 2026, 09:00 in Berlin falls due a few
seconds after the test starts; time runs in real time. The meeting is planned for the
Tuesday after Easter: Good Friday and Easter Monday are public holidays in NW, so the
working day before it is that Thursday.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.devtools.member import pill
from bot.devtools.synapse import LocalSynapse
from commands.parsing.dates import format_date
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.reminder_helpers import (
    bot_messages,
    database,
    insert_agreement,
    shifted_clock,
    start_bot,
    stop_bot,
    wait_for_bot_message,
)

pytestmark = pytest.mark.synapse

BERLIN = ZoneInfo("Europe/Berlin")


def localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]


AGENDA_AT = dt.datetime(2026, 4, 2, 9, 0, tzinfo=BERLIN)  # Maundy Thursday
MEETING_DAY = dt.date(2026, 4, 7)  # the Tuesday after Easter Monday


async def test_chair_plans_holds_and_ends_a_meeting_and_the_agenda_follows(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    localpart_bot = unique("bot")
    synapse.register(localpart_bot, PASSWORD)
    config = write_config(tmp_path, synapse, localpart_bot)
    # The story before the agenda takes 10–18 s on a shared two-core machine.
    lead = 30.0
    agenda_real = time.monotonic() + lead
    clock = shifted_clock(AGENDA_AT, lead)
    bot, task = await start_bot(config, clock=clock)
    try:
        bot_user = bot.config.user_id
        assert bot_user is not None
        anna = await make_member("anna")  # creates the room: power level 100, the chair
        ben = await make_member("ben")
        carla = await make_member("carla")
        room = await anna.create_room(
            "Steuerungsgruppe Bildung",
            encrypted=True,
            invite=(bot_user, ben.user_id, carla.user_id),
        )
        await ben.join(room)
        await carla.join(room)
        for user in (bot_user, ben.user_id, carla.user_id):
            await anna.wait_for_member(room, user)
        client = bot.client
        assert client is not None
        # The bot knows both members before the meeting, so it can name them.
        await anna.wait_until(
            lambda: {ben.user_id, carla.user_id} <= set(client.rooms[room].users), timeout=20
        )
        db = database(config)
        insert_agreement(
            db,
            room,
            number=1,
            text="Raumplanung Fachtag",
            due=MEETING_DAY + dt.timedelta(days=14),
            owners=[anna.user_id],
            created_by=anna.user_id,
            created_at=clock() - dt.timedelta(days=1),
        )
        db.dispose()

        # The chair plans the next meeting, then opens it.
        await anna.send(room, "!sitzung plan am 7.4. 16 Uhr")
        planned = await wait_for_bot_message(anna, bot_user, room, "Nächste Sitzung")
        assert f"{format_date(MEETING_DAY, 'de')}, 16:00 Uhr" in planned.body
        await anna.send(room, "!sitzung start Herbstsitzung")
        started = await wait_for_bot_message(anna, bot_user, room, "Sitzung #1 läuft")

        # Ben talks, Carla only reacts (to the roll call); an agreement is made for the next
        # meeting, one done.
        await ben.send(room, "Guten Morgen, ich bin dabei.")
        await carla.react(room, started.event_id, "👍")
        ben_name = localpart(ben.user_id)
        text = "!verabredung Elternbrief entwerfen {} bis zur nächsten Sitzung"
        await anna.send(
            room,
            text.format(ben_name),
            html_body=text.format(pill(ben.user_id, ben_name)),
            mentions=[ben.user_id],
        )
        recorded = await wait_for_bot_message(anna, bot_user, room, "#2 festgehalten")
        assert f"Frist: {format_date(MEETING_DAY, 'de')}" in recorded.body
        await anna.send(room, "!erledigt 1")
        await wait_for_bot_message(anna, bot_user, room, "#1 ist erledigt")

        await anna.send(room, "!sitzung ende")
        minutes = await wait_for_bot_message(anna, bot_user, room, "Ergebnisprotokoll")
        assert minutes.decrypted
        assert "Sitzung #1: Herbstsitzung" in minutes.body
        # Carla's 👍 on the start message answers the roll call; Ben only wrote.
        present = minutes.body.split("Anwesend (2): ", 1)[1].split("\n", 1)[0]
        for member in (anna, carla):
            assert localpart(member.user_id) in present
        chat = minutes.body.split("ohne Bestätigung der Anwesenheit (1): ", 1)[1]
        assert chat.split("\n", 1)[0] == localpart(ben.user_id)
        assert "Neu festgehalten (1):\n• #2 „Elternbrief entwerfen“" in minutes.body
        assert f"verantwortlich: {ben_name}" in minutes.body
        assert "Erledigt (1):\n• #1 „Raumplanung Fachtag“" in minutes.body
        assert time.monotonic() < agenda_real, "the story took too long for this test's clock"

        # 09:00 on the working day before the meeting: the follow-up agenda, Ben mentioned.
        agenda = await wait_for_bot_message(anna, bot_user, room, "Nachhalten –", timeout=40)
        assert agenda.decrypted
        assert f"Sitzung am {format_date(MEETING_DAY, 'de')}, 16:00 Uhr" in agenda.body
        assert "Fällig bis zur Sitzung (1):\n• #2 „Elternbrief entwerfen“" in agenda.body
        assert "Raumplanung Fachtag" not in agenda.body  # done in the meeting
        assert agenda.content["m.mentions"] == {"user_ids": [ben.user_id]}
        assert f'href="https://matrix.to/#/{ben.user_id}"' in (agenda.html or "")
        assert len(bot_messages(anna, bot_user, room, "Nachhalten –")) == 1
    finally:
        await stop_bot(bot, task)
