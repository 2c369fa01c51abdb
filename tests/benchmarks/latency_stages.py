"""Where a command's time goes in bench_command_latency (run it with BENCH_LATENCY_STAGES=1).

Stamps are taken by wrapping, for the benchmark's run only, nio's handling of a sync
response (`AsyncClient.receive_response`) and its `room_send` for every client in the
process, and gremienbot's handling in the database thread (`EventHandlers._answer`) and
everything else that thread runs (`DbThread.run`). The rounds are sequential: the stamps
of a bot between a member's command and the answer's arrival are that round's.

Per bot, the median and 95th percentile of each stage, from the member's command:
its send; the bot's sync bringing it; (gremienbot) the handling's start and end in the
database thread; the bot's send of the answer (start, duration); the member seeing it.
Then what the database thread ran during the rounds, by function: how often and how long.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nio
import pytest

from bot.runtime import events
from bot.runtime.dbthread import DbThread


@dataclass
class Stamp:
    who: str  # the client's user ID, or "db" for the database thread
    what: str
    start: float
    end: float
    name: str = ""


@dataclass
class Round:
    bot: str
    sent: float  # the member starts sending the command
    sent_done: float = 0.0  # the member's send came back
    seen: float = 0.0  # the member has the answer


@dataclass
class Stages:
    stamps: list[Stamp] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)

    def install(self, patch: pytest.MonkeyPatch) -> None:
        stamps = self.stamps
        receive, send = nio.AsyncClient.receive_response, nio.AsyncClient.room_send
        answer, run = events.EventHandlers._answer, DbThread.run

        async def receive_stamped(client: nio.AsyncClient, response: Any) -> Any:
            if isinstance(response, nio.SyncResponse):
                now = time.perf_counter()
                stamps.append(Stamp(client.user_id, "synced", now, now))
            return await receive(client, response)

        async def send_stamped(client: nio.AsyncClient, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await send(client, *args, **kwargs)
            finally:
                stamps.append(Stamp(client.user_id, "send", start, time.perf_counter()))

        @functools.wraps(answer)
        def answer_stamped(handlers: events.EventHandlers, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return answer(handlers, *args)
            finally:
                stamps.append(Stamp(handlers.client.user_id, "handled", start, time.perf_counter()))

        async def run_stamped(dbt: DbThread, fn: Callable[..., Any], *args: Any) -> Any:
            name = getattr(fn, "__qualname__", repr(fn))

            def timed(*inner: Any) -> Any:
                start = time.perf_counter()
                try:
                    return fn(*inner)
                finally:
                    stamps.append(Stamp("db", "run", start, time.perf_counter(), name))

            return await run(dbt, timed, *args)

        patch.setattr(nio.AsyncClient, "receive_response", receive_stamped)
        patch.setattr(nio.AsyncClient, "room_send", send_stamped)
        patch.setattr(events.EventHandlers, "_answer", answer_stamped)
        patch.setattr(DbThread, "run", run_stamped)

    def report(self, warm_up: int) -> str:
        lines: list[str] = []
        for bot in dict.fromkeys(r.bot for r in self.rounds):
            found = [self._stages(r) for r in self.rounds if r.bot == bot][warm_up:]
            rows = [row for row in found if row is not None]
            lines.append(f"{bot}: {len(rows)} rounds (ms from the member's command)")
            # The slowest twentieth: which stage made them slow.
            slowest = sorted(rows, key=lambda row: row["member has the answer"])[-len(rows) // 20 :]
            for stage in rows[0] if rows else {}:
                values = [row[stage] * 1000 for row in rows]
                slow = [row[stage] * 1000 for row in slowest]
                lines.append(
                    f"  {stage:34} median {statistics.median(values):6.1f}"
                    f"  p95 {statistics.quantiles(values, n=20)[-1]:6.1f}"
                    f"  slowest 5 %: median {statistics.median(slow):6.1f}"
                )
        db = [s for s in self.stamps if s.who == "db"]
        if self.rounds and db:
            first, last = self.rounds[warm_up].sent, self.rounds[-1].seen
            during = [s for s in db if first <= s.start <= last]
            counts = Counter(s.name for s in during)
            total: dict[str, float] = defaultdict(float)
            for s in during:
                total[s.name] += s.end - s.start
            lines.append(f"the database thread during the rounds ({last - first:.1f} s):")
            for name, n in counts.most_common():
                lines.append(f"  {name:44} {n:5}×  {total[name] / n * 1000:6.2f} ms each")
        return "\n".join(lines)

    def _stages(self, r: Round) -> dict[str, float] | None:
        mine = [s for s in self.stamps if s.who == r.bot and r.sent <= s.start <= r.seen]
        sends = [s for s in mine if s.what == "send"]
        if not sends:
            return None
        answer = sends[0]
        synced = [s for s in mine if s.what == "synced" and s.start <= answer.start]
        handled = [s for s in mine if s.what == "handled"]
        if not synced:
            return None
        stages = {
            "member's send done": r.sent_done - r.sent,
            "bot's sync in": synced[-1].start - r.sent,
        }
        if handled:
            stages["handling starts (database thread)"] = handled[0].start - r.sent
            stages["handling done"] = handled[0].end - r.sent
        stages["answer's send starts"] = answer.start - r.sent
        stages["answer's send takes"] = answer.end - answer.start
        stages["member has the answer"] = r.seen - r.sent
        return stages
