"""A member's direct-message room with the bot stays private, against a real Synapse: the
member cannot invite anyone into it; once a third person is in it anyway, the next private
message goes to a new room; an answer to a member's direct-message poll counts only from
that room, and only while the member is still in the committee."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from nio import (
    Api,
    RoomGetStateEventResponse,
    RoomInviteError,
    RoomInviteResponse,
    RoomSendResponse,
)
from sqlmodel import select

from bot.devtools.member import Member
from commands.core.effects import Reply
from commands.core.rich import text
from storage.db import Database
from storage.models import DirectRoom, PollVote
from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import accept_invites, queue_in, wait_sent
from tests.integration.poll_helpers import START, respond, until, wait_for_event
from tests.integration.reminder_helpers import bot_messages, wait_for_bot_message

pytestmark = pytest.mark.synapse

ANYWHERE = "!the-cause-of-it:localhost"  # the room of the cause; unused for direct messages


async def test_a_third_person_in_a_direct_room_sends_the_next_message_to_a_new_room(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna, mallory = await make_member("anna"), await make_member("mallory")
    invites = accept_invites(anna, bot.user_id)
    mallory_rooms = mallory.accept_invites_from(bot.user_id)
    db = bot.bot.db

    await queue_in(
        bot.bot, "$one", ANYWHERE, [Reply(text("Erste Nachricht"), to_user=anna.user_id)]
    )
    bot.bot.sender.wake()
    [first] = (await wait_sent(db, ["reply:$one:0"])).values()
    await until(lambda: any(m.event_id == first for m in anna.seen))
    old_room = invites[0].room_id

    # Anna has no power to invite anyone into it (Element's own DMs give her 100).
    levels = await anna.client.room_get_state_event(old_room, "m.room.power_levels")
    assert isinstance(levels, RoomGetStateEventResponse), levels
    assert levels.content.get("invite") == 100
    assert levels.content.get("users", {}).get(anna.user_id, 0) == 0
    refused = await anna.client.room_invite(old_room, mallory.user_id)
    assert isinstance(refused, RoomInviteError), refused
    # She can still write there (and answer polls).
    await anna.send(old_room, "Danke!")

    # A third person gets in anyway (a room made before this rule, a homeserver admin):
    # here the bot's own account invites her, as such a room's member could.
    invited = await bot.client.room_invite(old_room, mallory.user_id)
    assert isinstance(invited, RoomInviteResponse), invited
    client = bot.client
    await until(lambda: mallory.user_id in client.rooms[old_room].users)

    await queue_in(
        bot.bot, "$two", ANYWHERE, [Reply(text("Geheime Nachricht"), to_user=anna.user_id)]
    )
    bot.bot.sender.wake()
    [second] = (await wait_sent(db, ["reply:$two:0"])).values()
    await until(lambda: any(m.event_id == second for m in anna.seen))

    assert len(invites) == 2
    new_room = invites[1].room_id
    assert new_room != old_room
    assert invites[1].is_direct
    [seen] = [m for m in anna.seen if m.event_id == second]
    assert seen.room_id == new_room
    assert seen.decrypted
    with db.session() as s:
        row = s.get(DirectRoom, anna.user_id)
        assert row is not None
        assert row.room_id == new_room
    # The third person never got the new message (she joined the old room).
    await asyncio.sleep(1.0)
    assert all(m.event_id != second for m in mallory.seen)
    assert new_room not in mallory_rooms


async def _stop_here(member: Member, bot_user: str, room: str, command: str, needle: str) -> None:
    """Events of one room are handled in order: once the bot answered `command` (with a
    new message containing `needle`), it has handled everything sent into `room` before."""
    before = len(bot_messages(member, bot_user, room, needle))
    await member.send(room, command)
    await member.wait_until(
        lambda: len(bot_messages(member, bot_user, room, needle)) > before, timeout=30
    )


async def _send_with_hidden_relation(
    member: Member, room_id: str, event_type: str, content: dict[str, Any]
) -> None:
    """Send an event into an encrypted room with its relation inside the ciphertext only,
    as a modified client can: the homeserver, which refuses a visible relation to an
    event of another room, cannot see this one; the bot reads it after decrypting."""
    client = member.client
    if client.olm is not None and client.olm.should_share_group_session(room_id):
        await client.share_group_session(room_id, ignore_unverified_devices=True)
    kind, encrypted = client.encrypt(room_id, event_type, content)
    encrypted.pop("m.relates_to", None)
    method, path, data = Api.room_send(client.access_token, room_id, kind, encrypted, uuid4())
    resp = await client._send(RoomSendResponse, method, path, data, (room_id,))
    assert isinstance(resp, RoomSendResponse), resp


def votes(db: Database) -> int:
    with db.session() as s:
        return len(s.exec(select(PollVote)).all())


async def test_an_answer_counts_only_from_the_members_direct_room_and_while_a_member(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    bot_user = bot.user_id
    chair, anna, ben = (
        await make_member("vorsitz"),
        await make_member("anna"),
        await make_member("ben"),
    )
    invites = {m.user_id: accept_invites(m, bot_user) for m in (chair, anna, ben)}
    room = await chair.create_room("Fachgruppe Übergänge", invite=(bot_user,), encrypted=True)
    await chair.wait_for_member(room, bot_user, timeout=30)
    for member in (anna, ben):
        await chair.invite(room, member.user_id)
        await member.join(room)
        await chair.wait_for_member(room, member.user_id)

    await chair.send(room, "!puls anonym")
    await wait_for_bot_message(chair, bot_user, room, "3 Mitgliedern die Frage per Direktnachricht")
    starts = {}
    for member in (anna, ben):
        await until(lambda m=member: bool(invites[m.user_id]))  # type: ignore[misc]
        dm = invites[member.user_id][0].room_id
        [starts[member.user_id]] = await wait_for_event(member, dm, bot_user, START)

    # Anna answers her direct poll in the committee room (where all read it): not counted.
    await _stop_here(anna, bot_user, room, "!ergebnis", "bisher keine Stimmen")
    await _send_with_hidden_relation(anna, room, *respond(starts[anna.user_id].event_id, "5"))
    await _stop_here(anna, bot_user, room, "!ergebnis", "bisher keine Stimmen")
    assert votes(bot.bot.db) == 0

    # Ben leaves the committee, then answers in his own direct-message room: not counted.
    ben_dm = invites[ben.user_id][0].room_id
    await ben.client.room_leave(room)
    client = bot.client
    await until(lambda: ben.user_id not in client.rooms[room].users)
    await ben.send_event(ben_dm, *respond(starts[ben.user_id].event_id, "1"))
    await _stop_here(ben, bot_user, ben_dm, "!hilfe", "Mehr zu einem Befehl")
    assert votes(bot.bot.db) == 0

    # Anna in her own direct-message room: counted.
    anna_dm = invites[anna.user_id][0].room_id
    await anna.send_event(anna_dm, *respond(starts[anna.user_id].event_id, "5"))
    await until(lambda: votes(bot.bot.db) == 1)
    await _stop_here(chair, bot_user, room, "!ergebnis", "bisher 1 Stimme")
