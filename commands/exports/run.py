"""Running an export: the sections every export holds, the scope, the file's name.
The chat command and the command line (`gremienbot export`) both come here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.exports.agreement_sections import AGREEMENTS, HISTORY
from commands.exports.decision_sections import DECISIONS
from commands.exports.formats import ALIASES, all_formats
from commands.exports.meeting_poll_sections import MEETINGS, POLLS
from commands.exports.rendering import Format, Progress, no_progress
from commands.exports.sections import Scope, Section
from commands.parsing.date_words import fold
from storage.exports import Window
from storage.figures.period import Period

# In this order: sheets of the XLSX, files of the CSV archive, parts of the report.
SECTIONS: tuple[Section, ...] = (AGREEMENTS, HISTORY, MEETINGS, POLLS, DECISIONS)
DEFAULT_FORMAT = "xlsx"
FORMATS = all_formats()


def find_format(name: str) -> Format | None:
    key = fold(name).strip().lstrip(".")
    return FORMATS.get(ALIASES.get(key, key))


def make_scope(
    *,
    room_ids: tuple[str, ...] | None,
    period: Period | None,
    lang: str,
    tz: ZoneInfo,
    now: dt.datetime,
    offices: Mapping[str, str] | None = None,
) -> Scope:
    start, end = period.bounds(tz) if period is not None else (None, None)
    return Scope(Window(room_ids, start, end), lang, tz, now, dict(offices or {}))


def find_section(name: str) -> Section | None:
    return next((s for s in SECTIONS if s.name == name), None)


def export(
    db: Session,
    fmt: Format,
    scope: Scope,
    out: BinaryIO,
    progress: Progress = no_progress,
    sections: tuple[Section, ...] = SECTIONS,
) -> None:
    fmt.render(db, sections, scope, out, progress)


def filename(fmt: Format, room_label: str | None, period: Period | None) -> str:
    """e.g. "gremienbot-steuerungsgruppe-bildung-2026.xlsx", "gremienbot-alle-räume.zip"."""
    parts = ["gremienbot", _slug(room_label) if room_label else "alle"]
    if period is not None:
        parts.append(period.label)
    if fmt.name == "ics-events":
        parts.append("termine")
    return "-".join(p for p in parts if p) + "." + fmt.extension


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:60]
