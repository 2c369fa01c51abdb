"""Native polls as members see and answer them against a real Synapse: the event types,
an answer in either form, waiting for the bot's poll events in a room, and the committee
an annual survey is run in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient

from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from tests.integration.conftest import (
    PASSWORD,
    BotFactory,
    MemberFactory,
    RunningBot,
    unique,
    until_bot_can_write_to,
)
from tests.integration.effect_helpers import Invite, SeenEvent, accept_invites, timeline
from tests.integration.js_client import ElementClient

START = "org.matrix.msc3381.poll.start"
END = "org.matrix.msc3381.poll.end"


def respond(
    start_event_id: str, answer: str, *, stable: bool = False
) -> tuple[str, dict[str, Any]]:
    """A poll response event (type, content): the unstable form Element sends, or the
    stable one."""
    relation = {"rel_type": "m.reference", "event_id": start_event_id}
    if stable:
        return "m.poll.response", {"m.relates_to": relation, "m.selections": [answer]}
    return "org.matrix.msc3381.poll.response", {
        "m.relates_to": relation,
        "org.matrix.msc3381.poll.response": {"answers": [answer]},
    }


async def until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def bot_events(member: Member, room_id: str, bot_user: str, kind: str) -> list[SeenEvent]:
    return [e for e in await timeline(member, room_id, bot_user) if e.type == kind]


async def wait_for_event(
    member: Member, room_id: str, bot_user: str, kind: str, count: int = 1, timeout: float = 30
) -> list[SeenEvent]:
    """At least `count` events of `kind` the bot sent into the room, as the member reads
    them from the homeserver."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    found: list[SeenEvent] = []
    while True:
        # The member may still be joining the room they were just invited to.
        with contextlib.suppress(AssertionError):
            found = await bot_events(member, room_id, bot_user, kind)
        if len(found) >= count:
            return found
        assert loop.time() < deadline, f"{len(found)} of {count} {kind} from the bot in {room_id}"
        await asyncio.sleep(0.3)


@dataclass
class SurveyCommittee:
    """An encrypted committee room "Bildungskonferenz": the coordination (buero) made it,
    the bot and three members joined; each member accepts the bot's direct messages."""

    bot: RunningBot
    buero: Member
    members: tuple[Member, Member, Member]
    room: str
    # The direct-message rooms the bot invited each member to, by user ID.
    invites: dict[str, list[Invite]]


async def survey_committee(
    make_bot: BotFactory, make_member: MemberFactory, **bot_config: object
) -> SurveyCommittee:
    buero = await make_member("buero")
    bot = await make_bot(None, coordination=[buero.user_id], **bot_config)
    members = (await make_member("anna"), await make_member("ben"), await make_member("carla"))
    invites = {m.user_id: accept_invites(m, bot.user_id) for m in (buero, *members)}
    room = await buero.create_room(
        "Bildungskonferenz",
        encrypted=True,
        invite=(bot.user_id, *(m.user_id for m in members)),
    )
    for member in members:
        await member.join(room)
    for user_id in (bot.user_id, *(m.user_id for m in members)):
        await buero.wait_for_member(room, user_id, timeout=30)
    await buero.wait_until(lambda: len(bot.client.rooms[room].users) == 5, timeout=20)
    return SurveyCommittee(bot, buero, members, room, invites)


@dataclass
class VotingRoom:
    """An encrypted committee room "Bildungskonferenz" the chair made: the bot, Anna and
    Ben joined, and Elke (`elke`, a user ID) in Element, who answers the bot's poll."""

    chair: Member
    anna: Member
    ben: Member
    elke: str
    room: str


async def voting_room(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    node: str,
    bot_client: AsyncClient,
    *,
    answer_index: int,
    timeout_ms: int,
) -> tuple[VotingRoom, ElementClient]:
    """The room, and Elke's Element client (matrix-js-sdk, `tests/js`), ready and joined
    and known to the bot with her device, which picks answer `answer_index` of the poll;
    the caller kills it when done."""
    bot_user = bot_client.user_id
    chair, anna, ben = (
        await make_member("vorsitz"),
        await make_member("anna"),
        await make_member("ben"),
    )
    elke = synapse.register(unique("elke"), PASSWORD)
    room = await chair.create_room("Bildungskonferenz", invite=(bot_user,), encrypted=True)
    await chair.wait_for_member(room, bot_user, timeout=30)
    for member in (anna, ben):
        await chair.invite(room, member.user_id)
        await member.join(room)
    await chair.invite(room, elke)
    element = await ElementClient.start(
        node,
        mode="voter",
        homeserver=synapse.url,
        user=elke,
        password=PASSWORD,
        botUser=bot_user,
        roomId=room,
        answerIndex=answer_index,
        timeoutMs=timeout_ms,
    )
    try:
        assert (await element.line())["ready"]
        await chair.wait_for_member(room, elke, timeout=30)
        await until_bot_can_write_to(chair, bot_client, room, elke)
    except BaseException:
        element.kill()
        raise
    return VotingRoom(chair, anna, ben, elke, room), element
