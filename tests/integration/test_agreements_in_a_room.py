"""Two committee members follow up an agreement in an encrypted room, as in Element."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.devtools.member import Member, SeenMessage, pill
from commands.parsing.dates import format_date, parse_when
from tests.integration.conftest import BotFactory, MemberFactory

pytestmark = pytest.mark.synapse


def localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]


class Reader:
    """What one member has seen from the bot so far, and the next message to come."""

    def __init__(self, member: Member, room_id: str, bot_user: str) -> None:
        self.member, self.room_id, self.bot_user = member, room_id, bot_user
        self.count = len(member.messages_from(bot_user, room_id))

    async def next(self) -> SeenMessage:
        msg = await self.member.wait_for_reply(self.room_id, self.bot_user, self.count, timeout=30)
        self.count += 1
        assert msg.decrypted, f"{self.member.user_id} could not decrypt the bot's message"
        return msg


async def test_two_members_record_list_assign_complete_and_reopen_an_agreement(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    ben = await make_member("ben")
    room = await anna.create_room(
        "Steuerungsgruppe Bildung", encrypted=True, invite=(bot.user_id, ben.user_id)
    )
    await ben.join(room)
    await anna.wait_for_member(room, bot.user_id)
    await anna.wait_for_member(room, ben.user_id)
    bot_client = bot.client
    # The bot knows Ben is in the room before anyone asks it anything.
    await anna.wait_until(lambda: ben.user_id in bot_client.rooms[room].users, timeout=20)
    await ben.wait_until(lambda: bot.user_id in ben.client.rooms[room].users, timeout=20)
    anna_sees = Reader(anna, room, bot.user_id)
    ben_sees = Reader(ben, room, bot.user_id)
    anna_name, ben_name = localpart(anna.user_id), localpart(ben.user_id)

    # Anna records an agreement for Ben the way Element sends it: a pill and m.mentions.
    text = "!verabredung Entwurf Bildungsbericht an Schulamt {} bis nächsten Freitag"
    await anna.send(
        room,
        text.format(ben_name),
        html_body=text.format(pill(ben.user_id, ben_name)),
        mentions=[ben.user_id],
    )
    confirmation = await anna_sees.next()
    friday = parse_when("nächsten Freitag", now=dt.datetime.now(ZoneInfo("Europe/Berlin")))
    assert friday is not None
    assert "Verabredung #1 festgehalten: Entwurf Bildungsbericht an Schulamt\n" in confirmation.body
    assert f"Verantwortlich: {ben_name}\n" in confirmation.body
    assert f"Frist: {format_date(friday.date, 'de')}" in confirmation.body
    assert confirmation.content["m.mentions"] == {"user_ids": [ben.user_id]}
    assert f'href="https://matrix.to/#/{ben.user_id}"' in (confirmation.html or "")
    assert (await ben_sees.next()).event_id == confirmation.event_id  # Ben is notified

    # Ben lists the room's open agreements.
    await ben.send(room, "!liste")
    listed = await ben_sees.next()
    assert "Offene Verabredungen (1)" in listed.body
    assert f"#1 Entwurf Bildungsbericht an Schulamt – {ben_name} – " in listed.body
    await anna_sees.next()

    # Ben answers the confirmation to move the date, without typing the number. Element
    # names the replied-to sender (the bot) in m.mentions; that makes nobody an owner.
    await ben.send(
        room,
        "!frist in zwei Wochen",
        reply_to=confirmation.event_id,
        mentions=[bot.user_id],
    )
    moved = await ben_sees.next()
    later = parse_when("in zwei Wochen", now=dt.datetime.now(ZoneInfo("Europe/Berlin")))
    assert later is not None
    assert f"#1 – neue Frist: {format_date(later.date, 'de')}" in moved.body
    await anna_sees.next()

    # Anna hands it to both of them, with pills.
    await anna.send(
        room,
        f"!zuweisen 1 {ben_name} {anna_name}",
        html_body=f"!zuweisen 1 {pill(ben.user_id, ben_name)} {pill(anna.user_id, anna_name)}",
        mentions=[ben.user_id, anna.user_id],
    )
    assigned = await ben_sees.next()
    assert f"#1 – verantwortlich sind jetzt: {ben_name}, {anna_name}" in assigned.body
    assert sorted(assigned.content["m.mentions"]["user_ids"]) == sorted([ben.user_id, anna.user_id])
    await anna_sees.next()

    # Ben completes it with one tap: ✅ on the bot's confirmation.
    await ben.react(room, confirmation.event_id, "✅")
    done = await anna_sees.next()
    assert f"✅ #1 ist erledigt ({ben_name} per Reaktion): Entwurf Bildungsbericht" in done.body
    assert "erledigt" in (await ben_sees.next()).body

    # Anna reopens it; Ben sees it open again.
    await anna.send(room, "!wieder 1")
    reopened = await ben_sees.next()
    assert "#1 ist wieder offen: Entwurf Bildungsbericht an Schulamt" in reopened.body
    assert f"Verantwortlich: {ben_name}, {anna_name}" in reopened.body
    assert (await anna_sees.next()).event_id == reopened.event_id

    await ben.send(room, "!zeige 1")
    shown = await ben_sees.next()
    assert "Status: offen" in shown.body
    assert f"{ben_name}: als erledigt markiert" in shown.body
    assert f"{anna_name}: wieder geöffnet" in shown.body
