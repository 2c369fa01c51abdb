"""Element and other clients offer the bot's commands while a member types: the bot
publishes them as room state where it may (MSC4391, MSC4332) and lists itself as a
service member, in the room's language, against a real Synapse."""

from __future__ import annotations

from typing import Any

import pytest
from nio import RoomCreateResponse, RoomGetStateResponse

from bot.devtools.member import Member
from commands.core.command_state import (
    FUNCTIONAL_MEMBERS_TYPE,
    MSC4332_TYPE,
    MSC4391_TYPE,
    command_events,
    msc4391_state_key,
)
from commands.features import build_registry
from tests.integration.conftest import BotFactory, MemberFactory

pytestmark = pytest.mark.synapse

REGISTRY = build_registry()
COMMAND_TYPES = (MSC4332_TYPE, MSC4391_TYPE, FUNCTIONAL_MEMBERS_TYPE)


async def committee_room(member: Member, bot_user: str, *, bot_level: int) -> str:
    """A room the member creates and invites the bot to, the bot at `bot_level` from the
    start (as a room's admin sets it for a bot it trusts)."""
    resp = await member.client.room_create(
        name="Jugendhilfeausschuss",
        invite=[bot_user],
        power_level_override={"users": {bot_user: bot_level}},
    )
    assert isinstance(resp, RoomCreateResponse), resp
    await member.wait_until(lambda: resp.room_id in member.client.rooms, timeout=10)
    await member.wait_for_member(resp.room_id, bot_user)
    return resp.room_id


async def state_of(member: Member, room_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The room's state events of the types this is about, as the member reads them."""
    resp = await member.client.room_get_state(room_id)
    assert isinstance(resp, RoomGetStateResponse), resp
    return {(e["type"], e["state_key"]): e for e in resp.events if e.get("type") in COMMAND_TYPES}


def offered(state: dict[tuple[str, str], dict[str, Any]]) -> set[str]:
    return {
        e["content"]["command"]
        for (kind, _), e in state.items()
        if kind == MSC4391_TYPE and e["content"]
    }


async def test_a_room_where_the_bot_may_send_state_gets_its_commands_and_keeps_them(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await committee_room(anna, bot.user_id, bot_level=50)
    await anna.wait_until(lambda: bool(anna.greetings(bot.user_id, room)), timeout=20)
    await bot.bot.command_state.settled()

    state = await state_of(anna, room)
    for wanted in command_events(REGISTRY, "de", prefix="!", bot_user=bot.user_id):
        found = state[(wanted.event_type, wanted.state_key)]
        assert found["content"] == wanted.content
        assert found["sender"] == bot.user_id
    assert "verabredung" in offered(state)
    members = state[(FUNCTIONAL_MEMBERS_TYPE, "")]["content"]["service_members"]
    assert members == [bot.user_id]

    # While the bot is down one description goes missing (as when an upgrade brings a
    # command): the restarted bot sends that one again, and nothing else.
    await bot.stop()
    liste = (MSC4391_TYPE, msc4391_state_key("liste", bot.user_id))
    await anna.client.room_put_state(room, liste[0], {}, state_key=liste[1])
    again = await make_bot()
    await again.bot.command_state.settled()
    after = await state_of(anna, room)
    assert after[liste]["content"] == state[liste]["content"]
    assert after[liste]["event_id"] != state[liste]["event_id"]
    unchanged = {k: e["event_id"] for k, e in state.items() if k != liste}
    assert {k: e["event_id"] for k, e in after.items() if k != liste} == unchanged


async def test_a_room_where_the_bot_may_not_send_state_gets_none_and_help_is_answered(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await committee_room(anna, bot.user_id, bot_level=0)
    await anna.wait_until(lambda: bool(anna.greetings(bot.user_id, room)), timeout=20)
    await bot.bot.command_state.settled()

    assert await state_of(anna, room) == {}
    await anna.send(room, "!hilfe")
    answer = await anna.wait_for_reply(room, bot.user_id, 0)
    assert "Gremienbot – Hilfe" in answer.body


async def test_switching_the_room_to_english_offers_the_commands_in_english(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    bot = await make_bot()
    anna = await make_member("anna")
    room = await committee_room(anna, bot.user_id, bot_level=50)
    await anna.wait_until(lambda: bool(anna.greetings(bot.user_id, room)), timeout=20)
    await bot.bot.command_state.settled()
    before = await state_of(anna, room)

    await anna.send(room, "!einstellungen sprache en")
    changed = await anna.wait_for_reply(room, bot.user_id, 0)
    assert "Language is now English" in changed.body
    await bot.bot.command_state.settled()

    state = await state_of(anna, room)
    for wanted in command_events(REGISTRY, "en", prefix="!", bot_user=bot.user_id):
        assert state[(wanted.event_type, wanted.state_key)]["content"] == wanted.content
    assert "agree" in offered(state)
    assert "verabredung" not in offered(state)
    assert state[(MSC4391_TYPE, msc4391_state_key("liste", bot.user_id))]["content"] == {}
    listed = (FUNCTIONAL_MEMBERS_TYPE, "")
    assert state[listed]["event_id"] == before[listed]["event_id"]
