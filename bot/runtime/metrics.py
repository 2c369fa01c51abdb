"""What the bot counts for the operator: the Prometheus metrics behind `/metrics`.

Each bot has a registry of its own (several bots run in one test process). Counters are
moved by the runtime as things happen; the outbox's length and age and the rooms joined
are read when scraped, so they are never stale. Names follow Prometheus' conventions
(`_total` for counters, base units: seconds).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from commands.core.registry import CommandOutcome
from storage import outbox, rooms
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

# Seconds from a member's message (the homeserver's timestamp) to the bot's answer sent.
# Fine steps below a few seconds, where the bot's own share lies; coarse ones for answers
# given after an outage.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
# Commands whose answer is still owed, for the latency histogram; a bound, so that answers
# that never come (a room left meanwhile) cannot grow it.
_MAX_AWAITED = 10_000


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "gremienbot_commands",
            "Commands handled, by command (its German name) and outcome "
            "(ok, invalid, refused, failed, unknown).",
            ["command", "outcome"],
            registry=registry,
        )
        self.reply_latency = Histogram(
            "gremienbot_reply_latency_seconds",
            "From a member's command (homeserver time) to the bot's answer accepted by "
            "the homeserver.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.reminders_sent = Counter(
            "gremienbot_reminders_sent",
            "Reminders, follow-ups and digests posted when they fell due.",
            registry=registry,
        )
        self.reminders_late = Counter(
            "gremienbot_reminders_sent_late",
            "Of those, posted later than reminders.late_after_seconds after their time "
            "(the bot or the homeserver was away).",
            registry=registry,
        )
        self.sync_errors = Counter(
            "gremienbot_sync_errors",
            "Sync requests to the homeserver that failed.",
            registry=registry,
        )
        self.undecryptable = Counter(
            "gremienbot_undecryptable_messages",
            "Messages the bot could not decrypt, even after waiting for their key "
            "(answered in the room as unreadable).",
            registry=registry,
        )
        self.last_sync = Gauge(
            "gremienbot_last_sync_timestamp_seconds",
            "When the last sync succeeded (Unix time).",
            registry=registry,
        )
        # Command event's transaction key of its first answer -> the command's time.
        self._awaited: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ moved by the runtime

    def command_handled(self, name: str, outcome: CommandOutcome) -> None:
        self.commands.labels(command=name, outcome=outcome.value).inc()
        log.info("command %s: %s", name, outcome.value, extra={"command": name})

    def answer_owed(self, txn_id: str, command_at: dt.datetime) -> None:
        """The answer with this transaction ID answers a command sent at `command_at`."""
        with self._lock:
            self._awaited[txn_id] = command_at.timestamp()
            while len(self._awaited) > _MAX_AWAITED:
                self._awaited.popitem(last=False)

    def sent(self, txn_id: str) -> None:
        with self._lock:
            command_at = self._awaited.pop(txn_id, None)
        if command_at is not None:
            self.reply_latency.observe(max(0.0, time.time() - command_at))

    def reminders_posted(self, sent: int, late: int) -> None:
        self.reminders_sent.inc(sent)
        self.reminders_late.inc(late)

    def sync_failed(self) -> None:
        self.sync_errors.inc()

    def synced(self) -> None:
        self.last_sync.set(time.time())

    # ------------------------------------------------------------------ read when scraped

    def watch(self, db: Database) -> None:
        self.registry.register(_StateCollector(db))


class _StateCollector(Collector):
    """The outbox and the rooms, read from the database and the client at scrape time.

    Runs in the HTTP listener's thread, never on the event loop."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families(0, 0.0, 0)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.db.session(write=False) as s:
                pending, oldest = outbox.pending_stats(s)
                joined = rooms.count_active(s)
        except Exception as exc:  # the database is away: /healthz says so, /metrics goes on
            log.warning("metrics: outbox not readable: %s", exc.__class__.__name__)
            return
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield from self._families(pending, max(0.0, age), joined)

    @staticmethod
    def _families(pending: int, age: float, joined: int) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "gremienbot_outbox_pending", "Messages the bot owes and has not sent yet.", pending
        )
        yield GaugeMetricFamily(
            "gremienbot_outbox_oldest_pending_age_seconds",
            "How long the oldest message not sent yet has waited (0: none waits).",
            age,
        )
        yield GaugeMetricFamily("gremienbot_rooms_joined", "Rooms the bot is in.", joined)
