"""Markdown: the human report. Per room, each section as a table; a section with a
`split_by` column (the agreements, by state: overdue, open, done, cancelled) as one table
per value. The sections are walked side by side, room by room, as their queries are
ordered by room: only one room's rows are held at a time."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import BinaryIO

from sqlmodel import Session

from commands.core import i18n
from commands.core.room_names import room_name
from commands.exports.rendering import Progress, counted
from commands.exports.sections import Scope, Section, Value, local, text_value
from commands.parsing.dates import format_datetime
from storage import exports as store

# Characters that mean something in Markdown (and "|" in a table): escaped in user text.
_SPECIAL = re.compile(r"([\\`*_\[\]{}<>()#+!|~])")


def escape(value: str) -> str:
    one_line = " ".join(value.split())
    return _SPECIAL.sub(r"\\\1", one_line)


Group = tuple[str, list[tuple[Value, ...]]]


def _groups(db: Session, section: Section, scope: Scope, progress: Progress) -> Iterator[Group]:
    key = section.index(section.group_by)
    rows = counted(section.rows(db, scope), section.name, progress)
    for value, group in groupby(rows, key=lambda row: row[key]):
        yield str(value), list(group)


def render(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    lang = scope.lang
    text.write("# " + i18n.plain(lang, "export.md.title") + "\n\n")
    when = format_datetime(scope.now.astimezone(scope.tz), lang)
    text.write(i18n.plain(lang, "export.md.generated", when=when, period=_period(scope)) + "\n")
    walkers = [_groups(db, s, scope, progress) for s in sections]
    pending: list[Group | None] = [next(w, None) for w in walkers]
    for room in store.rooms(db, scope.window):
        text.write(f"\n## {escape(room_name(lang, room.room_id, room.name))}\n")
        for i, section in enumerate(sections):
            current = pending[i]
            rows: list[tuple[Value, ...]] = []
            if current is not None and current[0] == room.room_id:
                rows = current[1]
                pending[i] = next(walkers[i], None)
            text.write(f"\n### {escape(section.title(lang))} ({len(rows)})\n")
            if section.split_by is None:
                _table(text, section, rows, scope)
                continue
            split = section.index(section.split_by)
            column = section.columns[split]
            for value in section.split_order:
                part = [r for r in rows if r[split] == value]
                if part:
                    label = str(column.show(value, lang))
                    text.write(f"\n#### {escape(label)} ({len(part)})\n")
                    _table(text, section, part, scope, skip=split)
    text.flush()
    text.detach()


def _period(scope: Scope) -> str:
    window = scope.window
    if window.start is None and window.end is None:
        return i18n.plain(scope.lang, "export.md.everything")
    start = f"{local(window.start, scope.tz):%Y-%m-%d}" if window.start else "…"
    # The window's end is exclusive: the period's last day is the day before.
    last = local(window.end, scope.tz) - dt.timedelta(days=1) if window.end else None
    return f"{start} – {last:%Y-%m-%d}" if last else f"{start} – …"


def _table(
    text: io.TextIOWrapper,
    section: Section,
    rows: Sequence[tuple[Value, ...]],
    scope: Scope,
    skip: int | None = None,
) -> None:
    if not rows:
        return
    # The room is the heading already.
    hidden = {i for i, c in enumerate(section.columns) if c.key in ("room", section.group_by)}
    if skip is not None:
        hidden.add(skip)
    shown = [i for i in range(len(section.columns)) if i not in hidden]
    headers = section.headers(scope.lang)
    text.write("\n| " + " | ".join(escape(headers[i]) for i in shown) + " |\n")
    text.write("|" + "---|" * len(shown) + "\n")
    for row in rows:
        cells = [escape(text_value(section.columns[i], row[i], scope)) for i in shown]
        text.write("| " + " | ".join(cells) + " |\n")
