"""A committee day under load: 50 rooms, 200 members, ~1,000 commands in a few minutes.

Run: .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_committee_day.py -s
(sizes by environment: BENCH_DAY_ROOMS=50 BENCH_DAY_USERS=200 BENCH_DAY_ENCRYPTED=6
BENCH_DAY_COMMANDS=20 commands a room, BENCH_DAY_SECONDS=180 of typing)

A throwaway Synapse of its own (rate limits raised, quick password hashing); gremienbot as
a process of its own (tests/integration/bot_process.py: `gremienbot run` with a shifted
clock), so its memory and log are its own. Light members (plain HTTP) speak in the plain
rooms, real nio members (end-to-end encryption, three a room) in the encrypted ones. The
members post agreements, list, complete, re-date, note, ask for help and set reminders due
a minute later; the bot's clock reaches Monday 09:00 during the day, so the weekly digest
and the agreements' 09:00 reminders fall due too (polls: see committee_script.py).

Checked (as in tests/integration/test_committee_day.py): no ERROR in the bot's log, every
command answered exactly once, every reminder posted exactly once, the database and the
rooms agree. Printed: reply latency p50/p95 (the reply's origin_server_ts minus the
command's), and the bot process's peak resident memory (VmHWM).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pytest

from tests.benchmarks.results import Figures
from tests.integration.committee_day import (
    DaySize,
    check_day,
    clock_offset,
    run_day,
    wait_until_done,
)
from tests.integration.load_rooms import wait_until_bot_joined
from tests.integration.load_scene import load_scene


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


SIZE = DaySize(
    rooms=_env("BENCH_DAY_ROOMS", 50),
    users=_env("BENCH_DAY_USERS", 200),
    encrypted_rooms=_env("BENCH_DAY_ENCRYPTED", 6),
    commands_per_room=_env("BENCH_DAY_COMMANDS", 20),
    seconds=_env("BENCH_DAY_SECONDS", 180),
)


def _p95(values: list[float]) -> float:
    """As tests/integration/committee_day.py's percentiles() prints it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
async def test_committee_day_under_load(tmp_path: Path, figures: Figures) -> None:
    started = time.monotonic()
    async with load_scene(
        tmp_path, rooms=SIZE.rooms, users=SIZE.users, encrypted_rooms=SIZE.encrypted_rooms
    ) as scene:
        cast, bot_user = scene.cast, scene.bot_user
        members = len(cast.light) + len(cast.nio)
        print(
            f"\nset-up: {members} members ({len(cast.nio)} with encryption) in "
            f"{len(cast.rooms)} rooms ({SIZE.encrypted_rooms} encrypted) in "
            f"{time.monotonic() - started:.0f} s"
        )
        offset = clock_offset(20 + SIZE.seconds / 3)  # Monday 09:00 a third into the day
        bot = scene.bot(clock_offset=offset)
        bot.start()
        await bot.wait_ready(timeout=120)
        await wait_until_bot_joined(cast, bot_user, timeout=300)
        print(f"bot ready and in every room after {time.monotonic() - bot.started_at:.1f} s")
        day = time.monotonic()
        sent = await run_day(cast, SIZE)
        typing = time.monotonic() - day
        db = bot.database()
        await wait_until_done(db, sent, offset, timeout=900)
        print(
            f"members typed {len(sent)} commands in {typing:.0f} s "
            f"({len(sent) / typing:.1f}/s); all handled, reminders due and posted after "
            f"{time.monotonic() - day:.0f} s"
        )
        result = await check_day(cast, sent, db, bot_user, bot.errors())
        db.dispose()
        print(result.figures())
        peak = bot.peak_rss_mb()
        print(f"bot process peak memory (VmHWM): {peak:.0f} MiB")
        figures.add(
            "commands answered",
            len(sent),
            note=f"{SIZE.rooms} rooms ({SIZE.encrypted_rooms} encrypted), {members} members, "
            f"typed in {typing:.0f} s",
        )
        figures.add("reminders posted", result.reminders_seen)
        every = [x for values in result.latencies_ms.values() for x in values]
        for label, values in [("all rooms", every), *sorted(result.latencies_ms.items())]:
            if values:
                figures.add(f"reply latency p50, {label}", statistics.median(values), "ms")
                figures.add(f"reply latency p95, {label}", _p95(values), "ms")
        figures.add("bot process peak memory (VmHWM)", peak, "MiB")
        assert not result.problems, "\n".join(result.problems[:30])
