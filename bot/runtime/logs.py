"""The process's log: one line per event, readable or JSON, with room and event IDs.

What the bot is working on (a room, an event, an outbox message) is set once as context
(`log_context`) and added to every line logged meanwhile, in the event loop and in the
database thread alike (bot.runtime.dbthread carries the context over). Lines never hold
message text: handlers log IDs and command names, never bodies; secrets are never logged
and, should a library put an access token into a URL, it is masked here.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any, Literal, TextIO

# Fields the context may set, in the order lines show them.
CONTEXT_FIELDS = ("room_id", "event_id", "outbox_id", "command")

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "gremienbot_log_context", default=None
)

# An access token in a URL's query (`?access_token=…`) or an Authorization header.
_TOKEN = re.compile(r"(access_token=|Bearer\s+)[^\s&\"']+", re.IGNORECASE)

# Attributes every LogRecord has; the rest came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


@contextlib.contextmanager
def log_context(**fields: str | int | None) -> Iterator[None]:
    """Add these IDs to every line logged inside the block (and in work it hands on)."""
    current = dict(_context.get() or {})
    current.update({k: str(v) for k, v in fields.items() if v is not None})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the current context's IDs on the record (unless the call gave its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _mask(text: str) -> str:
    return _TOKEN.sub(r"\1***", text)


class TextFormatter(logging.Formatter):
    """`2026-11-30T08:00:00.123Z INFO bot.runtime.events: joined … room=!x event=$y`."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line = (
            f"{when.isoformat(timespec='milliseconds').replace('+00:00', 'Z')} "
            f"{record.levelname} {record.name}: {record.getMessage()}"
        )
        ids = " ".join(
            f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if hasattr(record, key)
        )
        if ids:
            line = f"{line} [{ids}]"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return _mask(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the IDs, other extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": _mask(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = _mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def make_handler(
    fmt: Literal["text", "json"] = "text", stream: TextIO | None = None
) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    return handler


def setup_logging(level: str, fmt: Literal["text", "json"] = "text") -> None:
    """The process's logging, from the config's `logging` section."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(fmt))
    root.setLevel(getattr(logging, level))
    # nio logs every request at INFO and, at DEBUG, event contents: never more than warnings.
    logging.getLogger("nio").setLevel(logging.WARNING)
    # APScheduler announces each wake-up at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
