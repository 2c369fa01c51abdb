"""A backlog of 1,000 commands queued while the bot was down, against 1,000 sent live.

Run: .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_backlog.py -s
(sizes by environment: BENCH_BACKLOG_COMMANDS=1000, BENCH_BACKLOG_ROOMS=20,
BENCH_BACKLOG_ENCRYPTED=4 of them encrypted)

A throwaway Synapse of its own (rate limits raised), gremienbot as a process of its own
(tests/integration/bot_process.py), light members (plain HTTP) in 16 plain rooms and
real nio members (end-to-end encryption, two a room) in 4 encrypted rooms. The
commands follow the committee mix of tests/integration/committee_script.py (agreements,
lists, completions, re-dating, notes, help; no reminders) and are spread unevenly over the
rooms (83 to 17 a room, the encrypted rooms the busiest), so busy rooms overflow a sync's
timeline and are paged back.

1. Live: the bot runs; the members send 1,000 commands as fast as they can (each room's
   members one after another, the rooms side by side). Time: the first command's
   origin_server_ts to the last answer's.
2. Backlog: the bot is stopped; the members send 1,000 more (same rooms, same mix); the bot
   is started. Time: the process start to the last answer's origin_server_ts (restart,
   login and catch-up included); also printed from the bot's first sync on.

Checked in both: every command answered exactly once (by `m.in_reply_to`) and, within
each room, the answers in the order of the commands, agreement numbers as sent; no ERROR
in the bot's log. Printed: both times, the ratio backlog / live (the design's target:
at most 1.5). The live phase runs first, so the backlog works on the larger database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path

import pytest

from bot.devtools.light_member import RoomEvent
from tests.benchmarks.results import Figures, at_most
from tests.integration.committee_day import (
    RECORDED,
    UNDECRYPTABLE,
    SentCommand,
    wait_until_done,
)
from tests.integration.committee_script import Command, RoomScript
from tests.integration.load_rooms import (
    LoadRoom,
    histories,
    wait_until_bot_joined,
)
from tests.integration.load_scene import load_scene

COMMANDS = int(os.environ.get("BENCH_BACKLOG_COMMANDS", 1000))
ROOMS = int(os.environ.get("BENCH_BACKLOG_ROOMS", 20))
ENCRYPTED = int(os.environ.get("BENCH_BACKLOG_ENCRYPTED", 4))
MEMBERS_PER_ROOM = 3
PER_ENCRYPTED_ROOM = 2
TARGET_RATIO = 1.5


def room_sizes(total: int, rooms: int) -> list[int]:
    """Uneven, as committees are: the i-th room gets a share growing with i."""
    weights = [i + 5 for i in range(rooms)]
    sizes = [total * w // sum(weights) for w in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


async def _send_room(room: LoadRoom, script: list[Command]) -> list[SentCommand]:
    sent = []
    for command in script:
        event_id = await command.sender.send(
            room.room_id, command.body, html_body=command.html, mentions=command.mentions
        )
        sent.append(SentCommand(room.room_id, event_id, command))
    return sent


async def send_all(rooms: list[LoadRoom], scripts: list[list[Command]]) -> list[SentCommand]:
    sent = await asyncio.gather(*(_send_room(r, s) for r, s in zip(rooms, scripts, strict=True)))
    return [c for room in sent for c in room]


def check_phase(
    rooms: list[LoadRoom], seen: dict[str, list[RoomEvent]], sent: list[SentCommand], bot: str
) -> tuple[list[str], int, int]:
    """Problems, and the first command's and last answer's origin_server_ts (ms)."""
    problems: list[str] = []
    first, last = 2**63, 0
    for room in rooms:
        events = seen[room.room_id]
        order = {c.event_id: i for i, c in enumerate(sent) if c.room_id == room.room_id}
        ts = {e.event_id: e.origin_server_ts for e in events}
        first = min([first, *(ts[eid] for eid in order if eid in ts)])
        answers = [e for e in events if e.sender == bot and e.in_reply_to in order]
        counts: dict[str, int] = {}
        for e in answers:
            assert e.in_reply_to is not None
            counts[e.in_reply_to] = counts.get(e.in_reply_to, 0) + 1
            last = max(last, e.origin_server_ts)
        bad = {eid: counts.get(eid, 0) for eid in order if counts.get(eid, 0) != 1}
        if bad:
            problems.append(f"{room.name}: {len(bad)} commands not answered exactly once")
        unread = sum(1 for e in answers if UNDECRYPTABLE in e.body)
        if unread:
            problems.append(f"{room.name}: {unread} commands the bot could not decrypt")
        positions = [order[e.in_reply_to] for e in answers if e.in_reply_to is not None]
        if positions != sorted(positions):
            problems.append(f"{room.name}: answers out of order")
        expected = {
            c.command.body.split(" ", 1)[1].rsplit(" bis ", 1)[0]
            for c in sent
            if c.room_id == room.room_id and c.command.body.startswith("!verabredung")
        }
        confirmed = [m for e in answers if (m := RECORDED.search(e.body))]
        numbers = [int(m[1]) for m in confirmed]
        if numbers != sorted(numbers) or len(confirmed) != len(expected):
            problems.append(f"{room.name}: agreements numbered {numbers[:5]}…, not as sent")
    return problems, first, last


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
async def test_backlog_against_live(tmp_path: Path, figures: Figures) -> None:
    async with load_scene(
        tmp_path,
        rooms=ROOMS,
        users=ENCRYPTED * PER_ENCRYPTED_ROOM + (ROOMS - ENCRYPTED) * (MEMBERS_PER_ROOM - 1),
        encrypted_rooms=ENCRYPTED,
        per_encrypted_room=PER_ENCRYPTED_ROOM,
    ) as scene:
        cast, bot_user = scene.cast, scene.bot_user
        rooms = cast.rooms
        # The encrypted rooms come first and are the busiest: their gaps are paged back.
        sizes = room_sizes(COMMANDS, ROOMS)[::-1]
        writers = [RoomScript(i, room.members) for i, room in enumerate(rooms)]
        bot = scene.bot()
        bot.start()
        await bot.wait_ready()
        await wait_until_bot_joined(cast, bot_user)
        db = bot.database()

        # 1. Live.
        sending = time.monotonic()
        live_sent = await send_all(
            rooms, [w.commands(n, reminders=0) for w, n in zip(writers, sizes, strict=True)]
        )
        typed = time.monotonic() - sending
        await wait_until_done(db, live_sent, clock_offset=_zero(), timeout=900)
        problems, first, last = check_phase(rooms, await histories(rooms), live_sent, bot_user)
        live = (last - first) / 1000
        print(
            f"\nlive: {len(live_sent)} commands in {ROOMS} rooms sent in {typed:.1f} s, "
            f"answered {live:.1f} s after the first was sent"
        )

        # 2. Backlog.
        bot.stop()
        sending = time.monotonic()
        backlog_sent = await send_all(
            rooms, [w.commands(n, reminders=0) for w, n in zip(writers, sizes, strict=True)]
        )
        print(f"backlog of {len(backlog_sent)} sent in {time.monotonic() - sending:.1f} s")
        bot.start()
        await bot.wait_ready(timeout=120)
        ready = time.time() - bot.started_wall
        await wait_until_done(db, backlog_sent, clock_offset=_zero(), timeout=900)
        more, _, last = check_phase(rooms, await histories(rooms), backlog_sent, bot_user)
        problems += more
        backlog = last / 1000 - bot.started_wall
        print(
            f"backlog: answered {backlog:.1f} s after the process started "
            f"({backlog - ready:.1f} s after its first sync, {ready:.1f} s to get there)\n"
            f"ratio backlog / live: {backlog / live:.2f}  (target <= {TARGET_RATIO})"
        )
        scale = f"{ROOMS} rooms, {ENCRYPTED} encrypted"
        figures.add(f"live: {len(live_sent)} commands answered in", live, "s", note=scale)
        figures.add(
            f"backlog: {len(backlog_sent)} commands answered in",
            backlog,
            "s",
            note=f"from the process start; {ready:.1f} s of it to the first sync",
        )
        figures.add("ratio backlog / live", backlog / live, "×", target=at_most(TARGET_RATIO))
        problems += [f"bot log: {line}" for line in bot.errors()[:20]]
        db.dispose()
        assert not problems, "\n".join(problems[:30])


def _zero() -> dt.timedelta:
    return dt.timedelta()
