"""A burst: 200 commands in 8 rooms (half of them encrypted) within about 8 seconds, the bot
running throughout — gremienbot next to a minimal echo bot given the same burst.

Run: .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_burst.py -s
(BENCH_BURST_COMMANDS=200, BENCH_BURST_ROOMS=8, BENCH_BURST_SECONDS=8; BENCH_BURST_ROUNDS=1
bursts for each bot, alternating, the echo bot first)

One throwaway Synapse of its own (rate limits raised); gremienbot
(tests/integration/bot_process.py) and the echo bot (tests/benchmarks/echo_bot.py, with
encryption) each a process of its own, each in 8 rooms of its own with the same members:
light members (plain HTTP) in the plain rooms, real nio members in the encrypted ones. Each
room's commands (the committee mix of tests/integration/committee_script.py, no reminders)
go out evenly spread over the burst, the rooms side by side.

Checked: every command answered exactly once (by `m.in_reply_to`), by both bots.
Printed for each bot: the median and p95 answer time (the answer's origin_server_ts minus
the command's) in all rooms, plain and encrypted; and the ratio of the p95s, gremienbot /
echo bot (target: at most 1.5).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.devtools.light_member import RoomEvent
from bot.devtools.synapse import LocalSynapse
from tests.benchmarks.echo_bot import READY
from tests.benchmarks.results import Figures, at_most
from tests.integration.bot_process import ROOT, BotProcess
from tests.integration.committee_day import SentCommand, percentiles
from tests.integration.committee_script import Command, RoomScript
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.load_rooms import (
    FAST_LOGIN,
    Cast,
    LoadRoom,
    build_cast,
    histories,
    wait_until_bot_joined,
)

COMMANDS = int(os.environ.get("BENCH_BURST_COMMANDS", 200))
ROOMS = int(os.environ.get("BENCH_BURST_ROOMS", 8))
SECONDS = float(os.environ.get("BENCH_BURST_SECONDS", 8))
ROUNDS = int(os.environ.get("BENCH_BURST_ROUNDS", 1))
PER_ENCRYPTED_ROOM = 2


@dataclass
class Target:
    """One bot, its rooms (the same members in each), and its answer times."""

    name: str
    user_id: str
    cast: Cast
    scripts: list[RoomScript]
    times: dict[str, list[float]]


class EchoProcess:
    def __init__(self, server: LocalSynapse, user_id: str, store: Path) -> None:
        self.log_path = store.parent / "echo.log"
        args = [server.url, user_id, PASSWORD, str(store)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.benchmarks.echo_bot", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while READY not in self.log_path.read_text("utf-8", errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log_path.read_text("utf-8", errors="replace")[-3000:])
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def _burst_room(room: LoadRoom, script: list[Command], t0: float) -> list[SentCommand]:
    sent = []
    step = SECONDS / max(1, len(script))
    for i, command in enumerate(script):
        await asyncio.sleep(max(0.0, t0 + i * step - time.monotonic()))
        event_id = await command.sender.send(
            room.room_id, command.body, html_body=command.html, mentions=command.mentions
        )
        sent.append(SentCommand(room.room_id, event_id, command))
    return sent


async def burst(target: Target) -> None:
    """Send the burst, wait until every command is answered, record the answer times."""
    per_room = COMMANDS // ROOMS
    rooms = target.cast.rooms
    t0 = time.monotonic() + 0.5
    sent_by_room = await asyncio.gather(
        *(
            _burst_room(room, w.commands(per_room, reminders=0), t0)
            for room, w in zip(rooms, target.scripts, strict=True)
        )
    )
    spread = time.monotonic() - t0
    sent = [c for room in sent_by_room for c in room]
    deadline = time.monotonic() + 300
    while True:
        seen = await histories(rooms)
        answered, times = _answers(rooms, seen, sent, target.user_id)
        if answered or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    await asyncio.sleep(2)  # a second answer would show by now
    seen = await histories(rooms)
    answered, times = _answers(rooms, seen, sent, target.user_id)
    got = sum(len(v) for v in times.values())
    assert answered, f"{target.name}: {got} of {len(sent)} commands answered exactly once"
    for kind, values in times.items():
        target.times.setdefault(kind, []).extend(values)
    print(f"{target.name}: {len(sent)} commands sent in {spread:.1f} s, all answered once")


def _answers(
    rooms: list[LoadRoom], seen: dict[str, list[RoomEvent]], sent: list[SentCommand], bot: str
) -> tuple[bool, dict[str, list[float]]]:
    """Whether each command has exactly one answer; the answer times (ms) by room kind."""
    times: dict[str, list[float]] = {}
    ok = True
    for room in rooms:
        events = seen[room.room_id]
        ts = {e.event_id: e.origin_server_ts for e in events}
        replies: dict[str, list[RoomEvent]] = {}
        for e in events:
            if e.sender == bot and e.in_reply_to:
                replies.setdefault(e.in_reply_to, []).append(e)
        kind = "encrypted rooms" if room.encrypted else "plain rooms"
        for c in sent:
            if c.room_id != room.room_id:
                continue
            got = replies.get(c.event_id, [])
            if len(got) != 1 or c.event_id not in ts:
                ok = False
                continue
            times.setdefault(kind, []).append(got[0].origin_server_ts - ts[c.event_id])
    return ok, times


TARGET_P95_RATIO = 1.5


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
async def test_burst_against_echo_bot(tmp_path: Path, figures: Figures) -> None:
    server = LocalSynapse(tmp_path / "hs", extra_config=FAST_LOGIN)
    await asyncio.to_thread(server.start)
    bot: BotProcess | None = None
    echo: EchoProcess | None = None
    casts: list[Cast] = []
    try:
        bot_user = await asyncio.to_thread(server.register, "bot", PASSWORD)
        echo_user = await asyncio.to_thread(server.register, "echo", PASSWORD)
        bot = BotProcess(write_config(tmp_path, server, "bot"))
        bot.start()
        echo = EchoProcess(server, echo_user, tmp_path / "echo-store")
        await bot.wait_ready()
        await echo.wait_ready()
        targets: list[Target] = []
        for name, user in (("echo bot", echo_user), ("gremienbot", bot_user)):
            cast = await build_cast(
                server,
                user,
                tmp_path / f"stores-{name}",
                rooms=ROOMS,
                users=ROOMS // 2 * PER_ENCRYPTED_ROOM + ROOMS // 2 * 2,
                encrypted_rooms=ROOMS // 2,
                per_encrypted_room=PER_ENCRYPTED_ROOM,
                prefix="e" if user == echo_user else "g",
            )
            casts.append(cast)
            await wait_until_bot_joined(cast, user)
            scripts = [RoomScript(i, room.members) for i, room in enumerate(cast.rooms)]
            targets.append(Target(name, user, cast, scripts, {}))
        for r in range(ROUNDS):
            for target in targets if r % 2 == 0 else targets[::-1]:
                await burst(target)
                await asyncio.sleep(3)
        print()
        for target in targets:
            every = [x for values in target.times.values() for x in values]
            print(f"{target.name}:")
            for label, values in [("all rooms", every), *sorted(target.times.items())]:
                print(f"  {label:<16} {percentiles(values)}")
        echo_all, bot_all = ([x for v in t.times.values() for x in v] for t in targets)
        print(
            f"ratio of the p95s, gremienbot / echo bot: {_p95(bot_all) / _p95(echo_all):.2f}"
            f"  (target <= {TARGET_P95_RATIO}); of the medians: "
            f"{statistics.median(bot_all) / statistics.median(echo_all):.2f}"
        )
        note = f"{len(bot_all)} commands, {ROOMS} rooms (half encrypted), {SECONDS:g} s"
        for target, values in ((targets[0], echo_all), (targets[1], bot_all)):
            figures.add(f"answer time median, {target.name}", statistics.median(values), "ms")
            figures.add(f"answer time p95, {target.name}", _p95(values), "ms", note=note)
        figures.add(
            "ratio of the p95s, gremienbot / echo bot",
            _p95(bot_all) / _p95(echo_all),
            "×",
            target=at_most(TARGET_P95_RATIO),
        )
        figures.add(
            "ratio of the medians, gremienbot / echo bot",
            statistics.median(bot_all) / statistics.median(echo_all),
            "×",
        )
        errors = bot.errors()
        assert not errors, "\n".join(errors[:20])
    finally:
        if bot is not None:
            bot.stop()
        if echo is not None:
            echo.stop()
        for cast in casts:
            await cast.close()
        await asyncio.to_thread(server.stop)
