"""Reply latency of ordinary commands in one room while another room's `!export` of
100,000 history rows is being made, against the same commands without an export.

Run: pytest -m benchmark tests/benchmarks/bench_export_latency.py -s
(BENCH_EXPORT_LATENCY_ROUNDS=100: at least that many commands each way, after 5 to warm up)

One throwaway Synapse; gremienbot runs in this process on a SQLite file filled beforehand
like bench_export's (10 rooms, 10,000 agreements, 100,000 history rows). A member sends
`!einstellungen` in a room of their own and waits for each answer, in turns: 30 with
nothing else going on, then as many as fit while the coordinator's `!export alle` (XLSX:
every room, the whole history) is being made (only answers sent and received while it is
count), and so on until both ways have enough; the turns let both see the same load of
the machine. Recorded: the median and 95th
percentile both ways, their ratio (the target: at most 1.5 for the 95th percentile), and
how long one export took from the command to its file being stored.
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
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from tests.benchmarks.bench_export import fill
from tests.benchmarks.results import Figures, at_most
from tests.integration.conftest import PASSWORD, write_config

ROUNDS = int(os.environ.get("BENCH_EXPORT_LATENCY_ROUNDS", 100))
WARM_UP = 5
# Commands between two exports.
QUIET_SPELL = 30
HISTORY_ROWS = 100_000
TARGET_RATIO = 1.5


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def settled(bot: GremienBot) -> None:
    """Until the bot owes nothing (the last export's file uploaded and sent)."""

    def owed() -> int:
        with bot.db.session(write=False) as s:
            return outbox.pending_stats(s)[0]

    for _ in range(6000):
        if not await bot.dbt.run(owed):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the bot still owes messages after ten minutes")


async def _round_trip(member: Member, room: str, bot_id: str, n: int) -> float:
    start = time.perf_counter()
    await member.send(room, "!einstellungen")
    await member.wait_for_reply(room, bot_id, n, timeout=60)
    return time.perf_counter() - start


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
async def test_command_latency_while_an_export_is_made(tmp_path: Path, figures: Figures) -> None:
    server = LocalSynapse(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    try:
        server.register("bot", PASSWORD)
        anna_id = server.register("anna", PASSWORD)
        buero_id = server.register("buero", PASSWORD)
        config = load_config(
            write_config(
                tmp_path, server, "bot", coordination=[buero_id], limits={"command_burst": 0}
            )
        )
        config.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(config.database_url)
        upgrade(db.engine)
        await asyncio.to_thread(fill, db, HISTORY_ROWS)
        db.dispose()

        bot = GremienBot(config)
        await bot.start()
        bot_task = asyncio.create_task(bot.run())
        await asyncio.wait_for(bot.ready.wait(), 60)
        bot_id = bot.config.user_id
        anna = Member(server.url, anna_id, PASSWORD, tmp_path / "anna")
        buero = Member(server.url, buero_id, PASSWORD, tmp_path / "buero")
        await anna.login()
        await buero.login()
        room = await anna.create_room("Ausschuss", invite=(bot_id,))
        desk = await buero.create_room("Koordination", invite=(bot_id,))
        await anna.wait_for_member(room, bot_id)
        await buero.wait_for_member(desk, bot_id)

        answered = 0

        async def command() -> float:
            nonlocal answered
            answered += 1
            return await _round_trip(anna, room, bot_id, answered - 1)

        for _ in range(WARM_UP):
            await command()
        # Quiet and busy spells take turns, so that both see the same load of the machine.
        quiet: list[float] = []
        busy: list[float] = []
        exports: list[float] = []
        while len(busy) < ROUNDS or len(quiet) < ROUNDS:
            await settled(bot)
            quiet.extend([await command() for _ in range(QUIET_SPELL)])
            asked_at = time.perf_counter()
            await buero.send(desk, "!export alle")
            await buero.wait_until(lambda: bot.renderer.busy, timeout=60)
            while bot.renderer.busy:
                seconds = await command()
                if bot.renderer.busy:  # still being made when the answer came
                    busy.append(seconds)
            exports.append(time.perf_counter() - asked_at)

        q_med, b_med = statistics.median(quiet), statistics.median(busy)
        q_p95, b_p95 = p95(quiet), p95(busy)
        print(f"\nwithout an export: median {q_med * 1000:.1f} ms, p95 {q_p95 * 1000:.1f} ms")
        print(f"while one is made: median {b_med * 1000:.1f} ms, p95 {b_p95 * 1000:.1f} ms")
        print(
            f"ratio p95 {b_p95 / q_p95:.2f} (target <= {TARGET_RATIO}), median {b_med / q_med:.2f}"
        )
        print(f"exports: {len(exports)}, each {statistics.median(exports):.1f} s (median)")
        n = f"{len(quiet)} and {len(busy)} commands"
        figures.add("reply latency median, no export", q_med * 1000, "ms", note=n)
        figures.add("reply latency p95, no export", q_p95 * 1000, "ms", note=n)
        figures.add("reply latency median, export being made", b_med * 1000, "ms", note=n)
        figures.add("reply latency p95, export being made", b_p95 * 1000, "ms", note=n)
        figures.add(
            "ratio p95 during / without an export",
            b_p95 / q_p95,
            "×",
            target=at_most(TARGET_RATIO),
        )
        figures.add(
            "`!export alle` of 100,000 history rows, command to file stored",
            statistics.median(exports),
            "s",
            note=f"median of {len(exports)}, XLSX",
        )
        await anna.close()
        await buero.close()
        bot.stop()
        await bot_task
    finally:
        await asyncio.to_thread(server.stop)
