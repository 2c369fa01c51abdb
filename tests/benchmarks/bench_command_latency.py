"""Command → reply latency of gremienbot against a minimal nio echo bot, same homeserver.

Run: pytest -m benchmark tests/benchmarks/bench_command_latency.py -s
(BENCH_LATENCY_ROUNDS=100 commands to each bot; the first 5 of each are a warm-up)

Both bots run in this process against one throwaway Synapse, in rooms of their own; the
member's commands alternate between them so both see the same machine load. Printed and
recorded: the median and 95th percentile as the member sees them (command sent to answer
received), and gremienbot's ratio to the echo bot for each (the design's target: at most
1.1). The bot's flood control is off: one member sending a command every few hundred
milliseconds is exactly what it would cut after a hundred.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import pytest

from bot.config import load_config
from bot.devtools.member import Member
from bot.devtools.synapse import LocalSynapse
from bot.runtime.app import GremienBot
from tests.benchmarks.echo_bot import EchoBot
from tests.benchmarks.results import Figures, at_most
from tests.integration.conftest import PASSWORD, write_config

ROUNDS = int(os.environ.get("BENCH_LATENCY_ROUNDS", 100))
WARM_UP = 5
TARGET_RATIO = 1.1


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def _round_trip(member: Member, room: str, bot_id: str, n: int, text: str) -> float:
    start = time.perf_counter()
    await member.send(room, text)
    await member.wait_for_reply(room, bot_id, n, timeout=30)
    return time.perf_counter() - start


@pytest.mark.benchmark
async def test_command_latency_against_echo_bot(tmp_path: Path, figures: Figures) -> None:
    server = LocalSynapse(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    try:
        echo_id = server.register("echo", PASSWORD)
        server.register("bot", PASSWORD)
        anna_id = server.register("anna", PASSWORD)
        echo = EchoBot(server.url, echo_id)
        await echo.start(PASSWORD)
        config = write_config(tmp_path, server, "bot", limits={"command_burst": 0})
        bot = GremienBot(load_config(config))
        await bot.start()
        bot_task = asyncio.create_task(bot.run())
        await asyncio.wait_for(bot.ready.wait(), 30)
        anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
        await anna.login()
        room_g = await anna.create_room("G", invite=(bot.config.user_id,))
        room_e = await anna.create_room("E", invite=(echo_id,))
        await echo.join_invites(room_e)
        await anna.wait_for_member(room_g, bot.config.user_id)
        await anna.wait_for_member(room_e, echo_id)

        g_times: list[float] = []
        e_times: list[float] = []
        for i in range(ROUNDS):
            e_times.append(await _round_trip(anna, room_e, echo_id, i, "!einstellungen"))
            g_times.append(await _round_trip(anna, room_g, bot.config.user_id, i, "!einstellungen"))
        g_times, e_times = g_times[WARM_UP:], e_times[WARM_UP:]
        g_med, e_med = statistics.median(g_times), statistics.median(e_times)
        g_p95, e_p95 = p95(g_times), p95(e_times)
        print(f"\necho bot:   median {e_med * 1000:.1f} ms, p95 {e_p95 * 1000:.1f} ms")
        print(f"gremienbot: median {g_med * 1000:.1f} ms, p95 {g_p95 * 1000:.1f} ms")
        print(
            f"ratio gremienbot / echo bot: median {g_med / e_med:.2f}, p95 {g_p95 / e_p95:.2f}"
            f"  (target <= {TARGET_RATIO})"
        )
        n = f"{len(g_times)} commands each"
        figures.add("reply latency median, echo bot", e_med * 1000, "ms", note=n)
        figures.add("reply latency median, gremienbot", g_med * 1000, "ms", note=n)
        figures.add("reply latency p95, echo bot", e_p95 * 1000, "ms", note=n)
        figures.add("reply latency p95, gremienbot", g_p95 * 1000, "ms", note=n)
        figures.add(
            "ratio gremienbot / echo bot, median", g_med / e_med, "×", target=at_most(TARGET_RATIO)
        )
        figures.add(
            "ratio gremienbot / echo bot, p95", g_p95 / e_p95, "×", target=at_most(TARGET_RATIO)
        )
        await anna.close()
        await echo.stop()
        bot.stop()
        await bot_task
    finally:
        await asyncio.to_thread(server.stop)
