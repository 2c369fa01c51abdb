"""Start-up to ready and resident memory with 500 rooms and 50,000 agreements, next to the
empty bot and a nio echo bot.

Run: .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_startup.py -s
(sizes by environment: BENCH_STARTUP_ROOMS=500, BENCH_STARTUP_AGREEMENTS=50000,
BENCH_STARTUP_MEMBERS=4 members a room besides the bot, from BENCH_STARTUP_PEOPLE=200;
BENCH_STARTUP_REPEATS=3 starts of each kind, BENCH_STARTUP_SETTLE=10 seconds of running)

A throwaway Synapse of its own; the bot as an operator starts it, `gremienbot run --config`
(`python -m bot run`, the same program) in a process of its own, logging at INFO to a file.
A start is timed from the process start to the log line beginning with "ready: first sync
done" (the bot logs it once its first sync is done: from then on it answers); the resident
memory is read from /proc/PID/status (VmRSS, and the peak VmHWM) at that moment and again
after BENCH_STARTUP_SETTLE seconds of running, when the reminder scheduler has planned every
room. Then SIGTERM, as systemd stops it. Each kind of start is repeated and the median taken.

1. The very first start on an empty data directory (login, device keys, cross-signing),
   for the record; then restarts of the empty bot: the baseline (memory under 110 MB).
2. The floor of the memory figures: the minimal nio bot (tests/benchmarks/echo_bot.py, with
   its encryption store, as a plain nio bot runs) on the same homeserver, a user and no
   room of its own, measured the same way (its ready line, then the same seconds of
   running); the bot's peaks are given as a ratio to its peak.
3. 500 committee rooms on the homeserver, each made by one of 200 members (plain HTTP) who
   invites three others and the bot; the bot joins each on invitation, as in production,
   and records it in its database. Restarts with these rooms and no agreements.
4. The database filled (tests/benchmarks/big_database.py): 50,000 agreements over two
   years, about a quarter open, with owners, histories, handled events, sent answers,
   `!erinnere` reminders and the reminder log; every reminder owed by now is settled as the
   running bot would have. Restarts on it: the figure with the targets (ready under 5 s,
   memory under 150 MB), read as "x s, of which y s is the empty bot".

Also recorded, to tell where the time and memory go: one reminder pass over all rooms
(commands.reminders.plan.plan, which the scheduler runs at every wake-up and twice at
start-up; it reads the agreements page by page) in this process, its time and its peak of
Python allocations (tracemalloc), and the size of the database file.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from bot.config import load_config
from bot.devtools.light_member import LightMember
from bot.devtools.synapse import LocalSynapse
from commands.core.timers import TimerEnv
from commands.reminders.plan import plan
from storage.db import Database
from storage.types import utcnow
from tests.benchmarks.big_database import fill, settle_reminders
from tests.benchmarks.echo_bot import READY as ECHO_READY
from tests.benchmarks.results import Figures, below
from tests.integration.bot_process import ROOT
from tests.integration.conftest import PASSWORD, write_config
from tests.integration.load_rooms import FAST_LOGIN, bounded, register

ROOMS = int(os.environ.get("BENCH_STARTUP_ROOMS", 500))
AGREEMENTS = int(os.environ.get("BENCH_STARTUP_AGREEMENTS", 50_000))
MEMBERS = int(os.environ.get("BENCH_STARTUP_MEMBERS", 4))
PEOPLE = int(os.environ.get("BENCH_STARTUP_PEOPLE", 200))
REPEATS = int(os.environ.get("BENCH_STARTUP_REPEATS", 3))
SETTLE = float(os.environ.get("BENCH_STARTUP_SETTLE", 10))

READY = "ready: first sync done"
READY_SECONDS = 5.0
MEMORY_MB = 150.0  # with the rooms and agreements
EMPTY_MEMORY_MB = 110.0  # the empty bot
# ERROR and CRITICAL lines (after one or two time stamp fields) and tracebacks.
_PROBLEM = re.compile(r"^(?:\S+ ){1,2}(ERROR|CRITICAL) \S+: |^Traceback", re.MULTILINE)


@dataclass(frozen=True)
class Memory:
    rss_mb: float  # VmRSS
    hwm_mb: float  # VmHWM: the peak so far


@dataclass(frozen=True)
class Start:
    ready_s: float
    at_ready: Memory
    settled: Memory


def memory(pid: int) -> Memory:
    """Resident memory of a process in MB (10^6 bytes; /proc counts KiB)."""
    status = Path(f"/proc/{pid}/status").read_text()

    def mb(key: str) -> float:
        found = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
        assert found is not None, f"no {key} in /proc/{pid}/status"
        return int(found[1]) * 1024 / 1e6

    return Memory(mb("VmRSS"), mb("VmHWM"))


class BotRun:
    """One process (the bot, or the echo bot): started, watched for its ready line, stopped."""

    def __init__(self, config: Path, command: Sequence[str] = (), ready: str = READY) -> None:
        self.config = config
        self.log_path = config.parent / ("bot.log" if not command else "echo.log")
        self.command = list(command) or [
            sys.executable, "-m", "bot", "run", "--config", str(config)
        ]  # fmt: skip
        self.ready = ready
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self._offset = 0
        self._pos = 0

    @classmethod
    def echo(cls, server: LocalSynapse, user_id: str, store: Path) -> BotRun:
        """The echo bot (tests/benchmarks/echo_bot.py) with its encryption store."""
        command = [
            sys.executable, "-m", "tests.benchmarks.echo_bot",
            server.url, user_id, PASSWORD, str(store),
        ]  # fmt: skip
        return cls(store, command, ECHO_READY)

    def start(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log:
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._offset)
            return f.read().decode("utf-8", errors="replace")

    def _read_more(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._pos)
            data = f.read()
        self._pos += len(data)
        return data.decode("utf-8", errors="replace")

    async def wait_ready(self, timeout: float = 180) -> float:
        """Seconds from the process start to its ready line (looked for every 10 ms)."""
        assert self.proc is not None
        self._pos = self._offset
        text = ""
        while True:
            new = self._read_more()
            # Only whole lines count: the ready line may be half written.
            text += new
            lines = text.splitlines(keepends=True)
            if any(self.ready in line for line in lines if line.endswith("\n")):
                return time.perf_counter() - self.started
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command[2]} exited at start-up:\n{text[-3000:]}")
            if time.perf_counter() - self.started > timeout:
                raise TimeoutError(f"{self.command[2]} did not get ready:\n{text[-3000:]}")
            await asyncio.sleep(0.01)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def errors(self) -> list[str]:
        text = self.log()
        return [text[m.start() : text.find("\n", m.start())] for m in _PROBLEM.finditer(text)]


async def measure(config: Path, settle: float = SETTLE) -> tuple[Start, list[str]]:
    """One start: time to ready, memory at ready and after `settle` seconds; log errors."""
    return await measure_run(BotRun(config), settle)


async def measure_run(run: BotRun, settle: float = SETTLE) -> tuple[Start, list[str]]:
    run.start()
    try:
        ready = await run.wait_ready()
        at_ready = memory(run.pid)
        await asyncio.sleep(settle)
        settled = memory(run.pid)
    finally:
        run.stop()
    return Start(ready, at_ready, settled), run.errors()


async def starts(
    label: str, config: Path, n: int = REPEATS, run: Callable[[], BotRun] | None = None
) -> tuple[list[Start], list[str]]:
    found: list[Start] = []
    errors: list[str] = []
    for _ in range(n):
        start, problems = await measure_run(run() if run is not None else BotRun(config))
        found.append(start)
        errors += problems
        print(
            f"  {label}: ready after {start.ready_s:.2f} s, VmRSS {start.at_ready.rss_mb:.0f} MB; "
            f"after {SETTLE:g} s: VmRSS {start.settled.rss_mb:.0f} MB, "
            f"VmHWM {start.settled.hwm_mb:.1f} MB"
        )
    return found, errors


async def committee_rooms(
    server: LocalSynapse, bot_user: str, rooms: int, members: int, people: int
) -> dict[str, list[str]]:
    """`rooms` rooms, each made by one member who invites `members - 1` others and the bot;
    the others join. Returns each room's members (without the bot)."""
    ids = await register(server, [f"p{i:03d}" for i in range(people)])
    cast = [LightMember(server.url, uid, PASSWORD) for uid in ids]
    try:
        await bounded([m.login for m in cast], limit=16)
        seats = itertools.cycle(cast)
        plans = [[next(seats) for _ in range(min(members, people))] for _ in range(rooms)]

        async def make(r: int, seated: list[LightMember]) -> tuple[str, list[str]]:
            others = tuple(m.user_id for m in seated[1:])
            room_id = await seated[0].create_room(
                f"Arbeitsgruppe Bildung {r}", invite=(bot_user, *others)
            )
            await asyncio.gather(*(m.join(room_id) for m in seated[1:]))
            return room_id, [m.user_id for m in seated]

        made = await bounded([partial(make, r, s) for r, s in enumerate(plans)], limit=8)
        found = dict(made)
        chairs = {room_id: seated[0] for (room_id, _), seated in zip(made, plans, strict=True)}
        await bounded(
            [partial(chairs[r].wait_for_member, r, bot_user, 300) for r in found], limit=8
        )
        return found
    finally:
        await asyncio.gather(*(m.close() for m in cast), return_exceptions=True)


def _median(starts: list[Start], value: Callable[[Start], float]) -> float:
    return statistics.median(value(s) for s in starts)


def reminder_pass(db: Database, env: TimerEnv) -> tuple[float, float]:
    """One reminder pass over all rooms, as the scheduler's wake-up makes it (without
    posting): the median time of three, and the peak of Python allocations (MB) of one."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        with db.session() as s:
            plan(s, utcnow(), env)
            s.rollback()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    try:
        with db.session() as s:
            plan(s, utcnow(), env)
            s.rollback()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return statistics.median(times), peak


def _size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def _spread(starts: list[Start]) -> str:
    times = sorted(s.ready_s for s in starts)
    return f"{len(times)} starts, {times[0]:.2f}–{times[-1]:.2f} s"


@pytest.mark.benchmark
@pytest.mark.timeout(3600)
async def test_startup_with_500_rooms_and_50000_agreements(
    tmp_path: Path, figures: Figures
) -> None:
    server = LocalSynapse(tmp_path / "hs", extra_config=FAST_LOGIN)
    await asyncio.to_thread(server.start)
    helper: BotRun | None = None
    try:
        bot_user = await asyncio.to_thread(server.register, "bot", PASSWORD)
        (tmp_path / "bot").mkdir()
        config = write_config(tmp_path / "bot", server, "bot", logging={"level": "INFO"})
        loaded_config = load_config(config)
        errors: list[str] = []

        print()
        first, problems = await measure(config, settle=2)
        errors += problems
        print(f"first start on an empty data directory: ready after {first.ready_s:.2f} s")
        empty, problems = await starts("empty bot", config)
        errors += problems
        echo_user = await asyncio.to_thread(server.register, "echo", PASSWORD)
        store = tmp_path / "echo" / "store"
        store.parent.mkdir()
        echo, problems = await starts(
            "nio echo bot", config, run=partial(BotRun.echo, server, echo_user, store)
        )
        errors += problems

        started = time.monotonic()
        helper = BotRun(config)
        helper.start()
        await helper.wait_ready()
        members = await committee_rooms(server, bot_user, ROOMS, MEMBERS, PEOPLE)
        await asyncio.sleep(3)  # the sync token after the last join is saved
        helper.stop()
        errors += helper.errors()
        helper = None
        print(
            f"set-up: {len(members)} rooms with {MEMBERS} members each and the bot in "
            f"{time.monotonic() - started:.0f} s"
        )
        rooms_only, problems = await starts(f"{len(members)} rooms", config)
        errors += problems

        started = time.monotonic()
        db = Database(loaded_config.database_url)
        now = utcnow()
        filled = fill(db, members, AGREEMENTS, now=now)
        env = TimerEnv(
            defaults=loaded_config.build_defaults(),
            coordinators=frozenset(loaded_config.coordination),
            bot_user=bot_user,
        )
        queued = settle_reminders(db, env, now)
        size = _size_mb(loaded_config.data_dir / "gremienbot.db")
        print(
            f"database filled in {time.monotonic() - started:.0f} s ({size:.0f} MB): "
            f"{filled.line()}; {queued} reminders settled as posted"
        )
        pass_s, pass_mb = reminder_pass(db, env)
        db.dispose()
        print(f"one reminder pass over all rooms: {pass_s:.2f} s, Python peak {pass_mb:.1f} MB")
        count = f"{filled.agreements:,}".replace(",", " ")
        scale = f"{len(members)} rooms, {count} agreements"
        loaded, problems = await starts(scale, config)
        errors += problems

        ready = _median(loaded, lambda s: s.ready_s)
        base = _median(empty, lambda s: s.ready_s)
        rooms_ready = _median(rooms_only, lambda s: s.ready_s)
        hwm = _median(loaded, lambda s: s.settled.hwm_mb)
        base_hwm = _median(empty, lambda s: s.settled.hwm_mb)
        rooms_hwm = _median(rooms_only, lambda s: s.settled.hwm_mb)
        echo_hwm = _median(echo, lambda s: s.settled.hwm_mb)
        print(
            f"ready: {ready:.2f} s with {len(members)} rooms and {filled.agreements} agreements, "
            f"of which {base:.2f} s is the empty bot ({rooms_ready:.2f} s with the rooms and no "
            f"agreements); target < {READY_SECONDS:g} s\n"
            f"memory (VmHWM after {SETTLE:g} s): {hwm:.1f} MB, of which {base_hwm:.1f} MB is the "
            f"empty bot ({rooms_hwm:.1f} MB with the rooms and no agreements); "
            f"targets < {MEMORY_MB:g} MB and < {EMPTY_MEMORY_MB:g} MB (empty)\n"
            f"nio echo bot: {echo_hwm:.1f} MB; ratios {hwm / echo_hwm:.2f}× and "
            f"{base_hwm / echo_hwm:.2f}× (empty)"
        )
        figures.add(
            f"start-up to ready, {scale}",
            ready,
            "s",
            target=below(READY_SECONDS),
            note=f"of which {base:.2f} s is the empty bot; median of {_spread(loaded)}",
        )
        figures.add(
            f"resident memory, peak (VmHWM) {SETTLE:g} s after ready, {scale}",
            hwm,
            "MB",
            target=below(MEMORY_MB),
            note=f"of which {base_hwm:.0f} MB is the empty bot",
        )
        figures.add(
            f"resident memory, peak (VmHWM) {SETTLE:g} s after ready, empty bot",
            base_hwm,
            "MB",
            target=below(EMPTY_MEMORY_MB),
            note=f"median of {len(empty)} starts",
        )
        figures.add(
            f"resident memory, peak (VmHWM) {SETTLE:g} s after ready, nio echo bot",
            echo_hwm,
            "MB",
            note="tests/benchmarks/echo_bot.py with its encryption store, no room; "
            f"median of {len(echo)} starts in this run",
        )
        figures.add(f"ratio of the peaks, gremienbot with {scale} / echo bot", hwm / echo_hwm, "×")
        figures.add("ratio of the peaks, empty gremienbot / echo bot", base_hwm / echo_hwm, "×")
        figures.add(f"VmRSS at ready, {scale}", _median(loaded, lambda s: s.at_ready.rss_mb), "MB")
        figures.add(
            f"VmRSS {SETTLE:g} s after ready, {scale}",
            _median(loaded, lambda s: s.settled.rss_mb),
            "MB",
        )
        figures.add(
            "start-up to ready, empty bot (baseline)", base, "s", note=f"median of {_spread(empty)}"
        )
        figures.add(
            f"start-up to ready, {len(members)} rooms without agreements",
            rooms_ready,
            "s",
            note=f"median of {_spread(rooms_only)}",
        )
        figures.add(
            f"resident memory, peak (VmHWM) {SETTLE:g} s after ready, {len(members)} rooms "
            "without agreements",
            rooms_hwm,
            "MB",
        )
        figures.add(
            "first start on an empty data directory (login, device keys, cross-signing)",
            first.ready_s,
            "s",
        )
        figures.add(
            f"one reminder pass over all rooms (scheduler wake-up), {scale}",
            pass_s,
            "s",
            note="in the benchmark's process, median of 3",
        )
        figures.add(
            "peak of Python allocations in that pass (tracemalloc)",
            pass_mb,
            "MB",
            note=f"{filled.open} open agreements, {filled.overdue} of them overdue",
        )
        figures.add(f"SQLite database file, {scale}", size, "MB", note=filled.line())
        assert not errors, "\n".join(errors[:20])
    finally:
        if helper is not None:
            helper.stop()
        await asyncio.to_thread(server.stop)
