"""The coordinator's desk against a real homeserver, in encrypted rooms: the coordination's
overview names both committees and their alike agreements; the chair sets the rules of
procedure and a member reads them with the roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.devtools.member import Member, SeenMessage
from tests.integration.conftest import BotFactory, MemberFactory

pytestmark = pytest.mark.synapse


def localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]


def bot_is_in(member: Member, room_id: str, bot_user: str) -> Callable[[], bool]:
    return lambda: bot_user in member.client.rooms[room_id].users


async def answer(member: Member, room_id: str, bot_user: str, body: str) -> SeenMessage:
    """Send `body` and wait for the bot's answer to it (not merely its next message in
    the room: the answer to someone else's command may still be on its way to us)."""
    sent = await member.send(room_id, body)

    def answers() -> list[SeenMessage]:
        return [
            m
            for m in member.messages_from(bot_user, room_id)
            if m.content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == sent
        ]

    await member.wait_until(lambda: bool(answers()), timeout=30)
    msg = answers()[0]
    assert msg.decrypted, f"{member.user_id} could not decrypt the bot's message"
    return msg


async def test_coordination_overview_across_committees_and_rules_read_by_a_member(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    anna = await make_member("anna")
    ben = await make_member("ben")
    buero = await make_member("buero")
    bot = await make_bot(coordination=[buero.user_id])
    schule = await anna.create_room(
        "Schulausschuss", encrypted=True, invite=(bot.user_id, ben.user_id, buero.user_id)
    )
    jugend = await anna.create_room("Jugendhilfeausschuss", encrypted=True, invite=(bot.user_id,))
    await ben.join(schule)
    await buero.join(schule)
    for user in (bot.user_id, ben.user_id, buero.user_id):
        await anna.wait_for_member(schule, user)
    await anna.wait_for_member(jugend, bot.user_id)
    for member in (ben, buero):
        await member.wait_until(bot_is_in(member, schule, bot.user_id))

    # Anna, creator of both rooms, records an agreement in each committee.
    recorded = await answer(
        anna, schule, bot.user_id, "!verabredung Schulentwicklungsplanung fortschreiben"
    )
    assert "Verabredung #1 festgehalten" in recorded.body
    recorded = await answer(
        anna, jugend, bot.user_id, "!verabredung Fortschreibung der Schulentwicklungsplanung"
    )
    assert "Verabredung #1 festgehalten" in recorded.body

    # The coordination asks for the overview in the encrypted committee room.
    overview = await answer(buero, schule, bot.user_id, "!übersicht")
    assert "Jugendhilfeausschuss: 1 offen, 0 überfällig" in overview.body
    assert "Schulausschuss: 1 offen, 0 überfällig" in overview.body
    [pair] = [line for line in overview.body.splitlines() if "↔" in line]
    assert "#1 „Schulentwicklungsplanung fortschreiben“" in pair
    assert "#1 „Fortschreibung der Schulentwicklungsplanung“" in pair
    assert "Schulausschuss" in pair
    assert "Jugendhilfeausschuss" in pair

    # The chair (power level 100 as the room's creator) sets the rules; Ben reads them.
    rules = "§ 1 Wir tagen monatlich.\n§ 2 Jede Verabredung hat eine Frist."
    saved = await answer(anna, schule, bot.user_id, "!geschäftsordnung " + rules)
    assert "Geschäftsordnung gespeichert (Fassung 1" in saved.body
    shown = await answer(ben, schule, bot.user_id, "!geschäftsordnung")
    assert rules in shown.body
    assert f"Vorsitz: {localpart(anna.user_id)}" in shown.body
    assert (
        f"Koordination (Bildungsbüro, für alle Gremien): {localpart(buero.user_id)}" in shown.body
    )
    assert "§ 1 Wir tagen monatlich.<br>§ 2" in (shown.html or "")
