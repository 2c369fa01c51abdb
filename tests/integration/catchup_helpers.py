"""Helpers of the catch-up and fault tests: bursts of commands, and what came back."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Sequence

from bot.devtools.member import Member, SeenMessage

RECORDED = re.compile(r"Verabredung #(\d+) festgehalten: (.+)")


def answers(member: Member, bot_user: str, room: str) -> dict[str, list[SeenMessage]]:
    """The bot's messages in `room` as `member` saw them, by the command they answer."""
    found: dict[str, list[SeenMessage]] = defaultdict(list)
    for msg in member.messages_from(bot_user, room):
        rel = msg.content.get("m.relates_to") or {}
        target = (rel.get("m.in_reply_to") or {}).get("event_id")
        found[target or ""].append(msg)
    return found


def recorded_numbers(member: Member, bot_user: str, room: str) -> dict[str, int]:
    """Agreement text → the number the bot's confirmation gave it."""
    numbers: dict[str, int] = {}
    for msg in member.messages_from(bot_user, room):
        m = RECORDED.search(msg.body)
        if m:
            numbers[m[2].strip()] = int(m[1])
    return numbers


async def wait_for_answers(
    member: Member, bot_user: str, room: str, count: int, *, timeout: float = 120
) -> None:
    await member.wait_until(
        lambda: len(member.messages_from(bot_user, room)) >= count, timeout=timeout
    )


async def settle(
    members: Sequence[Member], bot_user: str, rooms: Sequence[str], quiet: float = 2.0
) -> None:
    """Until no new bot message arrived for `quiet` seconds: a double would show by then."""
    last = -1
    while True:
        now = sum(len(m.messages_from(bot_user, r)) for m in members for r in rooms)
        if now == last:
            return
        last = now
        await asyncio.sleep(quiet)


def assert_each_answered_once(
    member: Member, bot_user: str, room: str, command_ids: Sequence[str]
) -> None:
    by_command = answers(member, bot_user, room)
    missing = [c for c in command_ids if not by_command.get(c)]
    doubled = {c: len(v) for c, v in by_command.items() if c in command_ids and len(v) > 1}
    assert not missing, f"{len(missing)} of {len(command_ids)} commands never answered"
    assert not doubled, f"answered more than once: {doubled}"
