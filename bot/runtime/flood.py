"""Flood control: one member's burst of commands is slowed, not answered a thousand times.

A token bucket per member and room (config `limits.command_burst` and
`limits.command_interval_seconds`; defaults: 100 in a row, then one every 3 seconds). A
command over the limit is not carried out; the member is told once per flood, in the room,
and a flood ends when the member has been quiet long enough for the bucket to be full again.

Time is the time each command was *sent* (its event's timestamp), never when the bot reads
it: after an outage the commands of the last hours arrive at once, and they are no flood
unless they were sent as one. Buckets are per room because the bot handles a room's events
in the order sent, but different rooms side by side: only within a room do the timestamps
the bucket sees go forward. A command's verdict is kept by its event ID, so a retry of the
same event (the database was away) is judged the same, not counted twice.

The state lives in memory: a restart forgets it, which costs at most one more burst.

Why 100 and not fewer: a minute-taker records a meeting's agreements in a row, and the
integration tests and benchmarks replay up to 65 commands of one member in one room
within seconds (tests/integration/test_faults_backlog.py, test_catchup.py,
tests/benchmarks/bench_backlog.py); a real flood (hundreds, a script) is still cut
after 100, with one notice.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

from commands.core.defaults import Limits

# Bounds of the memory the bookkeeping may take, however many members and events.
MAX_BUCKETS = 20_000
MAX_VERDICTS = 20_000


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # The first command refused in this flood: the member is told (once).
    notify: bool = False
    # When the member's next command will be carried out again.
    next_at: dt.datetime | None = None


ALLOWED = Verdict(allowed=True)


@dataclass
class _Bucket:
    tokens: float
    at: dt.datetime  # the latest send time counted
    warned: bool = False


class FloodControl:
    """The token buckets of every member in every room (one per running bot)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._verdicts: OrderedDict[str, Verdict] = OrderedDict()
        self._lock = threading.Lock()

    def check(
        self, room_id: str, sender: str, event_id: str, sent_at: dt.datetime, limits: Limits
    ) -> Verdict:
        """May this command be carried out? Counts it when it may."""
        burst = limits.command_burst
        if burst <= 0:
            return ALLOWED
        interval = limits.command_interval.total_seconds()
        with self._lock:
            known = self._verdicts.get(event_id)
            if known is not None:
                return known
            verdict = self._judge((room_id, sender), sent_at, burst, interval)
            self._verdicts[event_id] = verdict
            if len(self._verdicts) > MAX_VERDICTS:
                self._verdicts.popitem(last=False)
            return verdict

    def _judge(
        self, key: tuple[str, str], sent_at: dt.datetime, burst: int, interval: float
    ) -> Verdict:
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle(sent_at, burst * interval)
            bucket = self._buckets[key] = _Bucket(tokens=float(burst), at=sent_at)
        elif sent_at > bucket.at:
            # Timestamps only go forward within a room; one from a skewed clock that goes
            # back refills nothing.
            refill = (sent_at - bucket.at).total_seconds() / interval
            bucket.tokens = min(float(burst), bucket.tokens + refill)
            bucket.at = sent_at
        if bucket.tokens >= burst:
            bucket.warned = False  # quiet long enough: a new flood is told again
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return ALLOWED
        next_at = bucket.at + dt.timedelta(seconds=(1 - bucket.tokens) * interval)
        notify = not bucket.warned
        bucket.warned = True
        return Verdict(allowed=False, notify=notify, next_at=next_at)

    def _forget_idle(self, now: dt.datetime, full_after_seconds: float) -> None:
        """Keep the table bounded: a bucket untouched long enough is full, as a new one."""
        if len(self._buckets) < MAX_BUCKETS:
            return
        horizon = now - dt.timedelta(seconds=full_after_seconds)
        for key in [k for k, b in self._buckets.items() if b.at <= horizon]:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:  # all busy at once: start afresh
            self._buckets.clear()
