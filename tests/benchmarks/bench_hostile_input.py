"""Hostile input: the messages of issue 13 that froze the bot, timed against a normal one.

Run: pytest -m benchmark tests/benchmarks/bench_hostile_input.py -s

Each worst case goes the bot's way: what bot.runtime.events.on_text does with the event
content (reply fallback, mentions, cleaning; `bot side`) and then
bot.runtime.incoming.handle_message (context, dispatch, storage, outbox, commit) on a
SQLite file. The figure is the median of several runs, in ms and as a ratio to a normal
`!verabredung … bis Freitag` in the same process. Target: each worst case at most 50 ms
(the design's "no message costs more than ~50 ms of bot time"). Before the fixes: 41 s
(2,000 IDs), 138 s (3,000 IDs), 8 s (1,500 pills), 18 s (400 markers), 5 s (60 kB quote),
an internal error (1,400 weekdays).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.runtime.incoming import BotSettings, IncomingMessage, handle_message
from bot.runtime.matrix_content import mentioned_users, strip_reply_fallback
from commands.core.defaults import Defaults
from commands.core.text_input import clean
from commands.features import build_registry
from storage import rooms
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from tests.benchmarks.results import Figures, at_most

ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
BEN = "@ben:example.org"
SETTINGS = BotSettings(
    server_name="example.org",
    prefix="!",
    coordinators=frozenset(),
    registry=build_registry(),
    defaults=Defaults(),
)
ROUNDS = 15
TARGET_MS = 50.0


def _content(body: str, html: str | None = None, ids: tuple[str, ...] = ()) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if html is not None:
        content.update(format="org.matrix.custom.html", formatted_body=html)
    if ids:
        content["m.mentions"] = {"user_ids": list(ids)}
    return content


def _pill(user_id: str, label: str) -> str:
    return f'<a href="https://matrix.to/#/{user_id}">{label}</a>'


def worst_cases() -> dict[str, dict[str, Any]]:
    ids_2000 = tuple(f"@x:s{i}.example.org" for i in range(2000))
    ids_3000 = tuple(f"@x:s{i}.example.org" for i in range(3000))
    labels = [f"u{i}" for i in range(1500)]
    pills = "".join(_pill(f"@{n}:example.org", n) + " " for n in labels)
    return {
        "!liste naming 2,000 IDs of one local part (41 kB)": _content(
            "!liste " + " ".join(ids_2000), ids=ids_2000
        ),
        "!liste naming 3,000 IDs of one local part (62 kB)": _content(
            "!liste " + " ".join(ids_3000), ids=ids_3000
        ),
        "!verabredung with 1,500 pills": _content(
            ("!verabredung x " + " ".join(labels))[:3900], html="!verabredung x " + pills
        ),
        "!verabredung with 50 people (the most allowed)": _content(
            "!verabredung Protokoll " + " ".join(f"@x:s{i}" for i in range(50)),
            ids=tuple(f"@x:s{i}" for i in range(50)),
        ),
        "!liste with 50 people of one name, their '@a' 1,600 times": _content(
            "!liste " + "@a " * 1600, ids=tuple(f"@a{i}:example.org" for i in range(50))
        ),
        "!verabredung with malformed HTML ('<a ' × 6,000)": _content(
            "!verabredung Plan Ben", html="!verabredung Plan " + "<a " * 6000 + _pill(BEN, "Ben")
        ),
        "!verabredung with 300 'bis <date>' markers (4 kB)": _content(
            ("!verabredung x " + "bis 1/2/2026 " * 300)[:3995]
        ),
        "!frist with 1,400 weekdays": _content("!frist 1 " + "Mo " * 1400 + "2026"),
        "a 60 kB reply quote before !liste": _content("> " + "> x\n" * 15_000 + "\n!liste"),
        "a 60 kB reply quote, no command": _content("> " + "> x\n" * 15_000),
        "control and bidi characters": _content(
            "!verabredung " + "a\x00\u202e\ufeff\x1b" * 700 + " bis Freitag"
        ),
    }


@pytest.mark.benchmark
def test_hostile_messages_cost_little(tmp_path: Path, figures: Figures) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    upgrade(db.engine)
    now = dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)
    with db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=now - dt.timedelta(days=1))
    ids = itertools.count()
    members = {ANNA: "Anna", BEN: "Ben"} | {f"@x:s{i}": f"X {i}" for i in range(50)}
    members |= {f"@a{i}:example.org": "a" for i in range(50)}

    def handle(content: dict[str, Any]) -> tuple[float, float]:
        """The bot side (as on_text) and the handling, in seconds."""
        start = time.perf_counter()
        body = clean(strip_reply_fallback(content["body"]))
        html = content.get("formatted_body")
        mentions = mentioned_users(content)
        is_command = body.lstrip().startswith("!")
        n = next(ids)
        # Sent 5 s apart: no flood control (one command per 3 s) steps in.
        sent = now + dt.timedelta(seconds=5 * n)
        msg = IncomingMessage(
            room_id=ROOM,
            event_id=f"$e{n}",
            sender=ANNA,
            timestamp=sent,
            body=body,
            html=clean(html) if isinstance(html, str) else None,
            mentions=mentions,
            members=members,
        )
        read = time.perf_counter()
        if is_command:
            handle_message(db, msg, SETTINGS, lambda: sent)
        return read - start, time.perf_counter() - start

    def median_ms(run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
        times = [run() for _ in range(ROUNDS)]
        return (
            statistics.median(t[0] for t in times) * 1000,
            statistics.median(t[1] for t in times) * 1000,
        )

    def last_answer() -> str:
        with db.session() as s:
            row = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc())).first()
            return "" if row is None else str(json.loads(row.content).get("body", ""))

    handle(_content("!verabredung Erstes bis Freitag"))  # warm up (imports, caches)
    _, normal = median_ms(lambda: handle(_content("!verabredung Bericht an Ben bis Freitag")))
    print(f"\nnormal !verabredung … bis Freitag: {normal:6.2f} ms")
    figures.add("normal `!verabredung … bis Freitag` (baseline), median", normal, "ms")
    for label, content in worst_cases().items():
        bot_side, total = median_ms(partial(handle, content))
        ratio = total / normal
        print(f"{label:<52} {total:7.2f} ms  ({ratio:4.1f}×; bot side {bot_side:5.2f} ms)")
        print(f"    answer: {last_answer()[:110]!r}")
        figures.add(
            f"{label}, median",
            total,
            "ms",
            target=at_most(TARGET_MS),
            note=f"{ratio:.1f}× a normal !verabredung; bot side {bot_side:.2f} ms; {ROUNDS} runs",
        )
    db.dispose()
