"""Helpers of the fault tests: what a room holds, what the bot answered, what it stored.

What members saw is read from the homeserver with /messages through a member's client
(decrypted with the member's keys), not from the member's sync: a sync delivers at most a
few events per room, and a burst of two hundred commands would overflow it. Every event
is there once, so a message the bot posted twice shows as two events.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nio import MegolmEvent, RoomMessagesResponse
from sqlmodel import col, select

from bot.devtools.member import Member
from storage.db import Database
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementStatus,
    HistoryAction,
    OutboxMessage,
    OutboxStatus,
)

# The `make_member` fixture of tests/integration/conftest.py.


@dataclass(frozen=True)
class Said:
    """One message of a room as the homeserver keeps it."""

    event_id: str
    sender: str
    body: str
    content: dict[str, Any]
    decrypted: bool
    sent_at: dt.datetime  # the homeserver's time of the event

    @property
    def reply_to(self) -> str | None:
        rel = self.content.get("m.relates_to") or {}
        target = (rel.get("m.in_reply_to") or {}).get("event_id")
        return str(target) if target else None


def _sent_at(event: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(event.server_timestamp / 1000, dt.UTC)


def from_bot(said: Sequence[Said], bot_user: str, needle: str) -> list[Said]:
    """The bot's messages containing `needle` (a reminder's text)."""
    return [m for m in said if m.sender == bot_user and needle in m.body]


async def history(member: Member, room_id: str) -> list[Said]:
    """Every message of the room, oldest first, as `member` can read it."""
    found: list[Said] = []
    start: str | None = None
    for _ in range(50):
        resp = await member.client.room_messages(room_id, start=start, limit=1000)
        if not isinstance(resp, RoomMessagesResponse):
            raise RuntimeError(f"/messages in {room_id} failed: {resp}")
        for ev in resp.chunk:
            if isinstance(ev, MegolmEvent):
                found.append(Said(ev.event_id, ev.sender, "", {}, False, _sent_at(ev)))
            elif ev.source.get("type") == "m.room.message" or hasattr(ev, "body"):
                body = getattr(ev, "body", None)
                if body is None:
                    continue
                content = ev.source.get("content", {})
                found.append(Said(ev.event_id, ev.sender, str(body), content, True, _sent_at(ev)))
        if not resp.chunk or not resp.end or resp.end == start:
            break
        start = resp.end
    found.reverse()
    return found


async def history_when_reachable(member: Member, room_id: str) -> list[Said] | None:
    with contextlib.suppress(Exception):
        return await history(member, room_id)
    return None


@dataclass
class Answers:
    """The bot's messages in one room, by the command they answer (in room order)."""

    bot_messages: list[Said]
    by_command: dict[str, list[Said]] = field(default_factory=dict)

    @classmethod
    def of(cls, said: Sequence[Said], bot_user: str) -> Answers:
        mine = [m for m in said if m.sender == bot_user]
        by_command: dict[str, list[Said]] = defaultdict(list)
        for m in mine:
            if m.reply_to:
                by_command[m.reply_to].append(m)
        return cls(mine, dict(by_command))

    def answered(self, commands: Sequence[str]) -> int:
        return sum(1 for c in commands if self.by_command.get(c))

    def order(self, commands: Sequence[str]) -> list[str]:
        """The commands in the order their first answers appear in the room."""
        wanted = set(commands)
        seen: list[str] = []
        for m in self.bot_messages:
            if m.reply_to in wanted and m.reply_to not in seen:
                seen.append(m.reply_to)
        return seen


async def wait_for_answers(
    member: Member,
    bot_user: str,
    commands: dict[str, list[str]],
    *,
    timeout: float,
    also: Callable[[dict[str, list[Said]]], bool] | None = None,
) -> dict[str, list[Said]]:
    """Until every command (room → event IDs) has an answer; returns each room's messages.

    Polls /messages (a homeserver that was away is simply asked again), a room only once
    the member's own sync has seen enough answers there or every few seconds (reading a
    long room's history is work for the process the bot may run in). `also` may name a
    further condition on the rooms' messages (a reminder that must arrive)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    rooms: dict[str, list[Said]] = {}
    done: set[str] = set()
    for attempt in itertools.count():
        for room_id, ids in commands.items():
            seen = {m.event_id for m in member.messages_from(bot_user, room_id)}
            if room_id in done or (len(seen) < len(ids) and attempt % 4):
                continue
            said = await history_when_reachable(member, room_id)
            if said is not None:
                rooms[room_id] = said
                if Answers.of(said, bot_user).answered(ids) == len(ids):
                    done.add(room_id)
        if len(done) == len(commands):
            if also is None or also(rooms):
                return rooms
            done.clear()  # read again for `also`
        if loop.time() > deadline:
            missing = {
                room_id: len(ids) - Answers.of(rooms.get(room_id, []), bot_user).answered(ids)
                for room_id, ids in commands.items()
            }
            raise AssertionError(f"not answered in {timeout:.0f} s (room: missing): {missing}")
        await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def settled(
    member: Member, rooms: Sequence[str], *, quiet: float = 2.0
) -> dict[str, list[Said]]:
    """The rooms' messages once nothing new arrived for `quiet` seconds: a message posted
    twice (a resend after a crash, a reminder fired again) would show by then."""
    last: dict[str, int] = {}
    while True:
        current = {r: await history(member, r) for r in rooms}
        counts = {r: len(v) for r, v in current.items()}
        if counts == last:
            return current
        last = counts
        await asyncio.sleep(quiet)


def assert_answered_once_in_order(
    said: Sequence[Said],
    bot_user: str,
    commands: Sequence[str],
    *,
    expect: Callable[[int, Said], bool] | None = None,
) -> None:
    """Each command answered by exactly one message of the bot, readable, in send order.

    `expect(i, answer)` checks that the i-th command got the right kind of answer (not,
    say, "could not read your message" or an internal error)."""
    answers = Answers.of(said, bot_user)
    missing = [i for i, c in enumerate(commands) if not answers.by_command.get(c)]
    doubled = {
        i: len(answers.by_command[c])
        for i, c in enumerate(commands)
        if len(answers.by_command.get(c, [])) > 1
    }
    assert not missing, f"{len(missing)} of {len(commands)} commands never answered: {missing[:10]}"
    assert not doubled, f"answered more than once (command index: answers): {doubled}"
    unreadable = [m.event_id for m in answers.bot_messages if not m.decrypted]
    assert not unreadable, f"{len(unreadable)} messages of the bot could not be decrypted"
    assert answers.order(commands) == list(commands), "answers out of the order sent"
    if expect is not None:
        wrong = [
            (i, answers.by_command[c][0].body[:120])
            for i, c in enumerate(commands)
            if not expect(i, answers.by_command[c][0])
        ]
        assert not wrong, f"unexpected answers (command index, text): {wrong[:5]}"


def assert_posted_what_the_outbox_holds(
    db: Database, room_id: str, said: Sequence[Said], bot_user: str
) -> None:
    """Every message of the bot in the room is one outbox row marked sent, and vice versa:
    nothing posted twice, nothing the database believes sent is missing, nothing pending."""
    with db.session() as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.room_id == room_id)))
    posted = [m.event_id for m in said if m.sender == bot_user]
    assert len(posted) == len(set(posted))
    not_sent = [(r.id, r.status, r.last_error) for r in rows if r.status != OutboxStatus.SENT]
    assert not not_sent, f"outbox rows not sent: {not_sent[:5]}"
    stored = {r.event_id for r in rows}
    assert set(posted) == stored, (
        f"posted but not in the outbox: {len(set(posted) - stored)}, "
        f"in the outbox but not in the room: {len(stored - set(posted))}"
    )


@dataclass(frozen=True)
class Command:
    """One command of a scripted burst: who sends what; for `!verabredung`, its text."""

    sender: int
    body: str
    agreement: str | None = None  # the text the bot records
    done: int | None = None  # for `!erledigt N`: N


def meeting_script(
    room_tag: str, count: int, members: int, *, offset: int = 0, lists: bool = True
) -> list[Command]:
    """`count` commands of a meeting: mostly `!verabredung` with unique texts, every tenth a
    `!liste`, every seventh an `!erledigt N` of an agreement the same member recorded."""
    script: list[Command] = []
    recorded = 0
    open_by_member: dict[int, list[int]] = defaultdict(list)
    for i in range(count):
        who = (i + offset) % members
        if lists and i % 10 == 9:
            script.append(Command(who, "!liste"))
        elif lists and i % 7 == 6 and open_by_member[who]:
            number = open_by_member[who].pop(0)
            script.append(Command(who, f"!erledigt {number} besprochen", done=number))
        else:
            recorded += 1
            text = f"Punkt {room_tag}-{i:03d} klären"
            due = " bis 15.12." if i % 5 == 0 else ""
            script.append(Command(who, f"!verabredung {text}{due}", agreement=text))
            open_by_member[who].append(recorded)
    return script


def expected_answer(script: Sequence[Command]) -> Callable[[int, Said], bool]:
    """What each command's answer says, were the commands carried out in the order sent:
    the number an agreement gets, the agreement closed, how many are open at a `!liste`."""
    numbers = agreement_numbers(script)
    open_then: list[int] = []
    now_open = 0
    for cmd in script:
        now_open += 1 if cmd.agreement is not None else -1 if cmd.done is not None else 0
        open_then.append(now_open)

    def check(i: int, answer: Said) -> bool:
        cmd = script[i]
        if cmd.agreement is not None:
            number = numbers[cmd.agreement]
            return f"Verabredung #{number} festgehalten: {cmd.agreement}" in answer.body
        if cmd.done is not None:
            return f"#{cmd.done} ist erledigt" in answer.body
        return answer.body.startswith(f"Offene Verabredungen ({open_then[i]})")

    return check


def agreement_numbers(script: Sequence[Command]) -> dict[str, int]:
    """Agreement text → the number it must get: numbers follow the order sent."""
    texts = [c.agreement for c in script if c.agreement is not None]
    return {t: n for n, t in enumerate(texts, start=1)}


async def send_script(
    members: Sequence[Member], room_id: str, script: Sequence[Command], *, retry: bool = False
) -> list[str]:
    """Send the commands one after another (the room's order); returns their event IDs."""
    # One after another, in the script's order (a comprehension with await reads worse).
    return [await send(members[cmd.sender], room_id, cmd.body, retry=retry) for cmd in script]


async def send(member: Member, room_id: str, body: str, *, retry: bool = False) -> str:
    """One message; with `retry`, tried again as a client does while the homeserver refuses
    (throttled) or is away."""
    for attempt in range(120):
        try:
            return await member.send(room_id, body)
        except Exception:
            if not retry or attempt == 119:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def assert_agreements_stored_once(db: Database, room_id: str, script: Sequence[Command]) -> None:
    """Every `!verabredung` stored once under the number of its place in the order sent,
    with one 'created' history row; every `!erledigt` done with one 'done' history row."""
    numbers = agreement_numbers(script)
    done = {c.done for c in script if c.done is not None}
    with db.session() as s:
        stored = list(s.exec(select(Agreement).where(Agreement.room_id == room_id)))
        ids = [a.id for a in stored]
        rows = list(
            s.exec(select(AgreementHistory).where(col(AgreementHistory.agreement_id).in_(ids)))
        )
    assert {a.text: a.number for a in stored} == numbers
    assert len(stored) == len(numbers), "an agreement was stored twice"
    by_agreement: dict[int | None, list[str]] = defaultdict(list)
    for row in rows:
        by_agreement[row.agreement_id].append(row.action)
    for a in stored:
        actions = by_agreement[a.id]
        want_done = a.number in done
        assert actions.count(HistoryAction.CREATED) == 1, (a.number, actions)
        assert actions.count(HistoryAction.DONE) == (1 if want_done else 0), (a.number, actions)
        assert a.status == (AgreementStatus.DONE if want_done else AgreementStatus.OPEN)


async def committee(
    members: Sequence[Member], bot_user: str, name: str, *, encrypted: bool = False
) -> str:
    """A room created by the first member, with the bot and the other members in it, each
    member's client knowing everyone joined (so encrypted messages reach every device)."""
    chair = members[0]
    others = tuple(m.user_id for m in members[1:])
    room = await chair.create_room(name, invite=(bot_user, *others), encrypted=encrypted)
    await asyncio.gather(*(m.join(room) for m in members[1:]))
    everyone = [bot_user, *(m.user_id for m in members)]
    for m in members:
        for user in everyone:
            await m.wait_for_member(room, user, timeout=60)
    return room
