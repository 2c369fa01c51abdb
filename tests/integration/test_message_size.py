"""Long answers reach the room: the homeserver accepts every part, also encrypted."""

from __future__ import annotations

import pytest

from tests.integration.catchup_helpers import settle
from tests.integration.conftest import BotFactory, MemberFactory

pytestmark = pytest.mark.synapse


async def test_a_long_history_arrives_in_an_encrypted_room_in_parts(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await anna.create_room("Steuerungsgruppe", invite=(bot.user_id,), encrypted=True)
    await anna.wait_for_member(room, bot.user_id, timeout=30)
    await anna.send(room, "!verabredung Haushaltsplan abstimmen bis Freitag")
    await anna.wait_for_reply(room, bot.user_id, 0, timeout=30)
    # Notes as long as a note may be: together far beyond one event's 64 KiB.
    notes = [f"Notiz {i}: " + "Abstimmung mit der Kämmerei über Ü-Mittel " * 45 for i in range(30)]
    for i, note in enumerate(notes):
        await anna.send(room, f"!notiz 1 {note}")
        await anna.wait_for_reply(room, bot.user_id, 1 + i, timeout=30)
    before = len(anna.messages_from(bot.user_id, room))
    await anna.send(room, "!zeige 1")
    await anna.wait_for_reply(room, bot.user_id, before + 1, timeout=30)
    await settle([anna], bot.user_id, [room])
    parts = anna.messages_from(bot.user_id, room)[before:]
    assert len(parts) >= 2
    assert all(p.decrypted for p in parts)
    whole = "\n".join(p.body for p in parts)
    assert all(note.strip() in whole for note in notes[-20:])
