"""A committee member invites the bot and asks for help, as in Element."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import (
    PASSWORD,
    BotFactory,
    BotProcess,
    MemberFactory,
    unique,
    write_config,
)

pytestmark = pytest.mark.synapse


async def _room_with_bot(member: Member, bot_user: str, *, encrypted: bool) -> str:
    room_id = await member.create_room("Steuerungsgruppe", encrypted=encrypted, invite=(bot_user,))
    await member.wait_for_member(room_id, bot_user)
    return room_id


async def test_member_invites_bot_and_gets_the_command_list_in_german(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await _room_with_bot(anna, bot.user_id, encrypted=False)

    asked = await anna.send(room, "!hilfe")
    answer = await anna.wait_for_reply(room, bot.user_id, 0)

    assert "Gremienbot – Hilfe" in answer.body
    assert "Das Wichtigste" in answer.body
    assert "`!liste`" in answer.body
    assert answer.content["msgtype"] == "m.notice"
    assert answer.content["m.relates_to"]["m.in_reply_to"]["event_id"] == asked
    assert "<b>Gremienbot – Hilfe</b>" in (answer.html or "")


async def test_bot_introduces_itself_once_when_it_joins_a_committee_room(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await _room_with_bot(anna, bot.user_id, encrypted=True)

    await anna.wait_until(lambda: bool(anna.greetings(bot.user_id, room)), timeout=20)
    [hello] = anna.greetings(bot.user_id, room)
    assert hello.decrypted
    assert "ich bin der Gremienbot" in hello.body
    for command in ("`!verabredung ", "`!liste`", "`!hilfe`"):
        assert command in hello.body
    assert hello.in_reply_to is None
    # Not counted as an answer: the first answer is still the first reply.
    await anna.send(room, "!liste")
    answer = await anna.wait_for_reply(room, bot.user_id, 0)
    assert "Verabredungen" in answer.body
    assert len(anna.greetings(bot.user_id, room)) == 1


async def test_bot_reads_and_answers_in_an_encrypted_room(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await _room_with_bot(anna, bot.user_id, encrypted=True)

    await anna.send(room, "!help hilfe")
    answer = await anna.wait_for_reply(room, bot.user_id, 0)

    assert answer.decrypted, "the bot's answer must be readable by the member"
    assert "`!hilfe alle`" in answer.body
    # The answer really travelled encrypted.
    assert bot.client.rooms[room].encrypted


async def test_room_set_to_english_answers_in_english(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await _room_with_bot(anna, bot.user_id, encrypted=False)
    # The room creator has power level 100: the chair may change settings.
    await anna.send(room, "!einstellungen sprache en")
    changed = await anna.wait_for_reply(room, bot.user_id, 0)
    assert "Language is now English" in changed.body

    await anna.send(room, "!help")
    answer = await anna.wait_for_reply(room, bot.user_id, 1)
    assert "Gremienbot – help" in answer.body
    assert "The essentials" in answer.body
    assert "`!list`" in answer.body


async def test_unknown_command_and_bad_arguments_get_a_clear_answer(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await _room_with_bot(anna, bot.user_id, encrypted=False)

    await anna.send(room, "!hilf")
    unknown = await anna.wait_for_reply(room, bot.user_id, 0)
    assert "kenne ich nicht" in unknown.body
    assert "!hilfe" in unknown.body

    await anna.send(room, "!einstellungen farbe <b>rot</b>")
    bad = await anna.wait_for_reply(room, bot.user_id, 1)
    assert "farbe" in bad.body
    assert "sprache" in bad.body
    assert "Traceback" not in bad.body


async def test_invitation_from_a_stranger_is_declined(
    make_bot: BotFactory, make_member: MemberFactory, synapse: LocalSynapse
) -> None:
    bot = await make_bot(allowed_inviters={"users": [], "servers": ["elsewhere.example"]})
    mallory = await make_member("mallory")
    room = await mallory.create_room("Fremd", invite=(bot.user_id,))

    async def declined() -> bool:
        r = mallory.client.rooms[room]
        return bot.user_id not in r.invited_users and bot.user_id not in r.users

    for _ in range(100):
        if await declined():
            break
        await asyncio.sleep(0.1)
    assert await declined(), "the bot must decline, not ignore, an invitation it may not accept"


async def test_restarted_bot_answers_missed_commands_once_and_old_ones_never_again(
    synapse: LocalSynapse, make_member: MemberFactory, tmp_path: Path
) -> None:
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = write_config(tmp_path, synapse, localpart)
    bot_user = f"@{localpart}:{synapse.server_name}"
    process = BotProcess(config)
    process.start()
    try:
        anna = await make_member("anna")
        room = await _room_with_bot(anna, bot_user, encrypted=True)
        await anna.send(room, "!hilfe")
        await anna.wait_for_reply(room, bot_user, 0, timeout=30)

        assert process.stop() == 0
        await anna.send(room, "!hilfe einstellungen")  # while the bot is down

        process.start()
        missed = await anna.wait_for_reply(room, bot_user, 1, timeout=30)
        assert "`!einstellungen erinnerungszeit 8:30`" in missed.body

        await anna.send(room, "!help hilfe")
        await anna.wait_for_reply(room, bot_user, 2, timeout=30)
        await asyncio.sleep(1.0)
        assert len(anna.messages_from(bot_user, room)) == 3, "no command may be answered twice"
    finally:
        if process.proc and process.proc.poll() is None:
            process.stop()
    assert "Traceback" not in process.log()
