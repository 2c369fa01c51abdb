"""Bot-side handling of one command: event in → transaction committed with its replies.

Run: pytest -m benchmark tests/benchmarks/bench_command_handling.py -s

SQLite file (WAL, as in production), a room with 200 open agreements, all Anna's. Measures
bot.runtime.incoming.handle_message — processed-event check, context, dispatch, storage, outbox,
commit — for typical commands, and prints and records the median per command. The design's
target: under 5 ms median (named: `!verabredung` with a due date, and `!liste meine` over
Anna's 200 open agreements). The commands that read run before `!verabredung`, which adds
another agreement each round. The `!einstellungen` baseline, which touches almost no data,
shows how much of that is the fixed cost of a transaction. Flood control is off (a limit
of 0): this benchmark sends 1,600 commands of one member within seconds, which no member
does, and the bot would refuse all after the hundredth. At the end the benchmark checks
that every `!verabredung` was recorded, so refusals cannot pass for fast answers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.runtime.incoming import BotSettings, IncomingMessage, handle_message
from commands.core.defaults import Defaults, Limits
from commands.features import build_registry
from storage import rooms
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Agreement
from tests.benchmarks.results import Figures, below

ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
SETTINGS = BotSettings(
    server_name="example.org",
    prefix="!",
    coordinators=frozenset(),
    registry=build_registry(),
    defaults=Defaults(features={"limits": Limits(command_burst=0)}),
)
ROUNDS = 200
TARGET_MS = 5.0


@pytest.mark.benchmark
def test_command_handling_with_200_open_agreements(tmp_path: Path, figures: Figures) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    upgrade(db.engine)
    now = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=now - dt.timedelta(days=1))
    ids = itertools.count()
    members = {ANNA: "Anna"}

    def run(body: str) -> float:
        msg = IncomingMessage(
            room_id=ROOM,
            event_id=f"$e{next(ids)}",
            sender=ANNA,
            timestamp=now,
            body=body,
            members=members,
        )
        start = time.perf_counter()
        handle_message(db, msg, SETTINGS, lambda: now)
        return time.perf_counter() - start

    for i in range(200):
        run(f"!verabredung Punkt {i} bis {1 + i % 28}.4.")

    # Those that read first: each `!verabredung` adds an agreement.
    commands = {
        "!einstellungen (baseline)": "!einstellungen",
        "!liste": "!liste",
        "!liste meine": "!liste meine",
        "!zeige 17": "!zeige 17",
        "!notiz 17 …": "!notiz 17 Rückfrage beim Jugendamt",
        "!frist 17 …": "!frist 17 30.4.",
        "!verabredung": "!verabredung Bericht an das Schulamt bis Freitag",
    }
    print()
    for label, body in commands.items():
        times = [run(body) for _ in range(ROUNDS)]
        median = statistics.median(times) * 1000
        print(
            f"{label:<28} median {median:6.2f} ms   "
            f"p90 {statistics.quantiles(times, n=10)[-1] * 1000:6.2f} ms"
        )
        baseline = label.endswith("(baseline)")
        figures.add(
            f"`{body}`{' (baseline)' if baseline else ''}, median",
            median,
            "ms",
            target=None if baseline else below(TARGET_MS),
            note=f"{ROUNDS} runs; 200 open agreements of the sender in the room"
            + (f", {ROUNDS} more as it runs" if body.startswith("!verabredung") else ""),
        )
    with db.session() as s:
        recorded = s.exec(select(func.count()).select_from(Agreement)).one()
    db.dispose()
    assert recorded == 200 + ROUNDS, f"{recorded} agreements recorded: commands were refused"
