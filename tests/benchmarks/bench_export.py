"""Exports of 100,000 history rows in every format: time and peak memory.

Run: pytest -m benchmark tests/benchmarks/bench_export.py -s

SQLite file (as in production): 10 rooms, 10,000 agreements with one owner each, 10 history
entries per agreement. Each format is exported to a file three times timed (the median of
wall-clock and of CPU time: the machine may be shared; the design's target for XLSX: under
3 s; the other formats: under 5 s), once under tracemalloc for the peak of Python
allocations. CSV and JSON
stream, so their peak must not grow with the row count: the same export of 20,000 history
rows is measured too and the ratio printed (1.0 = flat).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import SQLModel

from commands.exports.run import FORMATS, export, make_scope
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Agreement, AgreementHistory, AgreementOwner, Room
from tests.benchmarks.results import Figures, below

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
ROOMS = 10
PER_AGREEMENT = 10
TARGET_SECONDS = {"xlsx": 3.0}
TIMED_RUNS = 3
DEFAULT_TARGET_SECONDS = 5.0
FLAT_RATIO = 1.5
ACTIONS = ("created", "assigned", "due_changed", "note", "edited", "note", "done", "reopened")


def fill(db: Database, history_rows: int) -> None:
    agreements = history_rows // PER_AGREEMENT
    rooms = [
        {"room_id": f"!room{r}:example.org", "joined_at": START, "encrypted": True,
         "name": f"Arbeitsgruppe Übergänge {r}", "left_at": None}
        for r in range(ROOMS)
    ]  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(SQLModel.metadata.tables[Room.__tablename__].insert(), rooms)
        batch_a: list[dict[str, object]] = []
        batch_o: list[dict[str, object]] = []
        batch_h: list[dict[str, object]] = []
        history_id = 0
        for i in range(1, agreements + 1):
            at = START + dt.timedelta(minutes=i * 50)
            batch_a.append(
                {"id": i, "room_id": f"!room{i % ROOMS}:example.org", "number": i // ROOMS + 1,
                 "text": f"Bericht „Übergänge“ {i}, mit \"Zitat\" und Komma", "status": "open",
                 "due_date": (at + dt.timedelta(days=30)).date(), "due_time": None,
                 "created_by": "@anna:example.org", "created_at": at, "updated_at": at,
                 "closed_at": None, "source_event_id": f"$e{i}"}
            )  # fmt: skip
            batch_o.append({"agreement_id": i, "user_id": "@ben:example.org", "position": 0})
            for k in range(PER_AGREEMENT):
                history_id += 1
                batch_h.append(
                    {"id": history_id, "agreement_id": i, "at": at + dt.timedelta(hours=k),
                     "actor": "@ben:example.org", "action": ACTIONS[k % len(ACTIONS)],
                     "old_value": "2026-02-01", "new_value": "2026-02-08",
                     "note": "Rückmeldung liegt vor" if k % 3 == 0 else None,
                     "source_event_id": None}
                )  # fmt: skip
            if len(batch_h) >= 20_000 or i == agreements:
                conn.execute(SQLModel.metadata.tables[Agreement.__tablename__].insert(), batch_a)
                owner_table = SQLModel.metadata.tables[AgreementOwner.__tablename__]
                conn.execute(owner_table.insert(), batch_o)
                history_table = SQLModel.metadata.tables[AgreementHistory.__tablename__]
                conn.execute(history_table.insert(), batch_h)
                batch_a, batch_o, batch_h = [], [], []


def run(db: Database, fmt: str, out: Path) -> None:
    now = dt.datetime(2026, 12, 31, 12, 0, tzinfo=BERLIN)
    scope = make_scope(room_ids=None, period=None, lang="de", tz=BERLIN, now=now)
    with db.session() as s, out.open("wb") as f:
        export(s, FORMATS[fmt], scope, f)


def timed(db: Database, fmt: str, out: Path) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of TIMED_RUNS exports."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(TIMED_RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(db, fmt, out)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def peak(db: Database, fmt: str, out: Path) -> int:
    tracemalloc.start()
    try:
        run(db, fmt, out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.benchmark
@pytest.mark.timeout(1200)  # xlsx under tracemalloc is slow; the figures are printed
def test_export_of_100000_history_rows_in_every_format(tmp_path: Path, figures: Figures) -> None:
    small = Database(f"sqlite:///{tmp_path / 'small.db'}")
    large = Database(f"sqlite:///{tmp_path / 'large.db'}")
    for db, rows in ((small, 20_000), (large, 100_000)):
        upgrade(db.engine)
        fill(db, rows)
    print()
    print(
        f"{'format':<11} {'time 100k':>10} {'cpu':>7} {'size':>9} {'peak 100k':>10} "
        f"{'peak 20k':>9} ratio"
    )
    slow: list[str] = []
    for fmt in FORMATS:
        out = tmp_path / f"export.{fmt}"
        target = TARGET_SECONDS.get(fmt, DEFAULT_TARGET_SECONDS)
        seconds, cpu = timed(large, fmt, out)
        size = out.stat().st_size
        peak_large = peak(large, fmt, out)
        line = (
            f"{fmt:<11} {seconds:>9.2f}s {cpu:>6.2f}s {size / 1e6:>7.1f}MB "
            f"{peak_large / 1e6:>8.1f}MB"
        )
        figures.add(
            f"{fmt}: time for 100,000 history rows",
            seconds,
            "s",
            target=below(target),
            note=f"median of {TIMED_RUNS}; CPU {cpu:.2f} s; {size / 1e6:.1f} MB written",
        )
        figures.add(f"{fmt}: peak of Python allocations (tracemalloc)", peak_large / 1e6, "MB")
        if fmt in ("csv", "json"):
            peak_small = peak(small, fmt, out)
            ratio = peak_large / peak_small
            line += f" {peak_small / 1e6:>7.1f}MB {ratio:.2f}"
            figures.add(
                f"{fmt}: peak for 100,000 rows / peak for 20,000 rows",
                ratio,
                "×",
                target=below(FLAT_RATIO),
                note="streaming: flat is 1.0",
            )
            # Streaming: five times the rows may not cost anywhere near five times the memory.
            assert ratio < FLAT_RATIO, f"{fmt}: memory grows with the row count ({ratio:.2f}x)"
        print(line)
        if seconds >= target:
            slow.append(f"{fmt} {seconds:.1f}s (target {target:g} s)")
    print("over the target:", ", ".join(slow) or "none")
    small.dispose()
    large.dispose()
