"""The operator's HTTP listener (config `metrics.listen`): `/healthz` and `/metrics`.

It runs in threads of its own, never on the event loop: a slow scrape or a database that
does not answer cannot hold up the bot, and a busy bot still answers its health check.

`/healthz` says 200 only while the last sync with the homeserver succeeded, not longer
ago than `metrics.max_sync_age_seconds`, and the database answers; otherwise 503 with the
reason as plain text. `/metrics` is the Prometheus text format of bot.runtime.metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from sqlalchemy import text

from bot.runtime.metrics import Metrics
from storage.db import Database

log = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass
class SyncHealth:
    """What the sync loop last reported; written by the event loop, read by the listener."""

    last_ok: float | None = None  # time.monotonic() of the last successful sync
    last_error: str | None = None  # set by a failed sync, cleared by a successful one

    def synced(self) -> None:
        self.last_ok = time.monotonic()
        self.last_error = None

    def failed(self, reason: str) -> None:
        self.last_error = reason


class Health:
    def __init__(self, db: Database, sync: SyncHealth, *, max_sync_age: float) -> None:
        self.db = db
        self.sync = sync
        self.max_sync_age = max_sync_age

    def problems(self) -> list[str]:
        """Why the bot is not healthy now; empty when it is."""
        found: list[str] = []
        sync = self.sync
        if sync.last_ok is None:
            found.append("no sync with the homeserver has succeeded yet")
        elif sync.last_error is not None:
            found.append(f"the last sync with the homeserver failed: {sync.last_error}")
        elif (age := time.monotonic() - sync.last_ok) > self.max_sync_age:
            found.append(f"the last successful sync was {age:.0f} s ago")
        try:
            with self.db.reader.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            found.append(f"the database does not answer: {exc.__class__.__name__}")
        return found


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    """Scrapes every few seconds would otherwise fill the log with access lines."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("monitoring: " + format, *args)


class MonitoringServer:
    def __init__(self, host: str, port: int, health: Health, metrics: Metrics) -> None:
        self.health = health
        self._metrics_app = make_wsgi_app(metrics.registry)
        self._server = make_server(
            host, port, self._app, server_class=_Server, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="gremienbot-monitoring", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()
        log.info("monitoring: /healthz and /metrics on port %d", self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)
        if path == "/healthz":
            problems = self.health.problems()
            status = "503 Service Unavailable" if problems else "200 OK"
            body = ("\n".join(problems) if problems else "ok") + "\n"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [body.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"/healthz or /metrics\n"]
