"""The operator's HTTP listener: /healthz says why it is unhealthy, /metrics is Prometheus'."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from bot.runtime.metrics import Metrics
from bot.runtime.monitoring import Health, MonitoringServer, SyncHealth
from storage.db import Database


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@contextmanager
def _listening(db: Database, sync: SyncHealth, max_sync_age: float = 60) -> Iterator[str]:
    metrics = Metrics()
    metrics.watch(db)
    server = MonitoringServer("127.0.0.1", 0, Health(db, sync, max_sync_age=max_sync_age), metrics)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_healthy_only_after_a_recent_sync_with_the_database_answering(sqlite_db: Database) -> None:
    sync = SyncHealth()
    with _listening(sqlite_db, sync, max_sync_age=60) as base:
        assert _get(f"{base}/healthz")[::2] == (
            503,
            "no sync with the homeserver has succeeded yet\n",
        )
        sync.synced()
        assert _get(f"{base}/healthz")[::2] == (200, "ok\n")
        sync.failed("ClientConnectorError: Connection refused")
        status, _, body = _get(f"{base}/healthz")
        assert status == 503
        assert "the last sync with the homeserver failed: ClientConnectorError" in body
        sync.synced()
        sync.last_ok = time.monotonic() - 120  # quiet, but the long-poll never came back
        status, _, body = _get(f"{base}/healthz")
        assert (status, body) == (503, "the last successful sync was 120 s ago\n")


def test_unhealthy_while_the_database_does_not_answer() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    gone = Database("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    sync = SyncHealth()
    sync.synced()
    try:
        with _listening(gone, sync) as base:
            status, _, body = _get(f"{base}/healthz")
            assert status == 503
            assert body.startswith("the database does not answer: OperationalError")
            # /metrics still answers: counters live in memory, only the outbox is unreadable.
            status, content_type, text = _get(f"{base}/metrics")
            assert status == 200
            assert content_type.startswith("text/plain")
            assert "gremienbot_commands_total" in text
            assert "gremienbot_outbox_pending" not in text
    finally:
        gone.dispose()


def test_metrics_in_prometheus_text_format_and_unknown_paths_refused(sqlite_db: Database) -> None:
    sync = SyncHealth()
    with _listening(sqlite_db, sync) as base:
        status, content_type, text = _get(f"{base}/metrics")
        assert status == 200
        assert "version=0.0.4" in content_type
        for name in (
            "gremienbot_commands_total",
            "gremienbot_reply_latency_seconds_bucket",
            "gremienbot_reminders_sent_total",
            "gremienbot_reminders_sent_late_total",
            "gremienbot_sync_errors_total",
            "gremienbot_undecryptable_messages_total",
            "gremienbot_outbox_pending 0.0",
            "gremienbot_outbox_oldest_pending_age_seconds 0.0",
            "gremienbot_rooms_joined 0.0",
        ):
            assert f"\n{name}" in text or f"# TYPE {name}" in text, name
        assert _get(f"{base}/")[0] == 404
