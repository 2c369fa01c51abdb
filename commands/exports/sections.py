"""What an export holds: a list of sections, each a small declaration that every format
renders (a sheet, a CSV file, a part of the report).

A section has a name (its title and column headers come from the catalogue under
`export.section.<name>` and `export.column.<name>.<key>`), typed columns, and a row
iterator over the database that streams in the order of its `group_by` column (the room),
so that formats need only one batch and the human report can walk rooms side by side.
Adding the meetings or the poll results to the exports is adding one section.
A section may also yield calendar items (the ICS formats).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from storage.exports import Window

Value = str | int | dt.date | dt.datetime | None


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"
    # Aware; formats show it in the export's time zone.
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    type: ColumnType = ColumnType.TEXT
    # Width in characters in a spreadsheet.
    width: int = 14
    # Values are keys whose text is the catalogue's `<labels>.<value>` (a state, an action):
    # rows stay language-free, each format shows them in the export's language.
    labels: str | None = None

    def show(self, value: Value, lang: str) -> Value:
        if self.labels is None or value is None:
            return value
        return _label(self.labels, str(value), lang)


@functools.cache
def _label(prefix: str, value: str, lang: str) -> str:
    # Looked up for every row of large exports: once per value is enough.
    return i18n.plain(lang, f"{prefix}.{value}")


@dataclass(frozen=True)
class Scope:
    """Which rows, and how to show them: language, time zone, and the moment of export
    (what counts as overdue)."""

    window: Window
    lang: str
    tz: ZoneInfo
    now: dt.datetime
    # The config's `offices:` map (user ID -> office), under the offices set with `!amt`
    # (commands.agreements.offices); empty where the config is not at hand.
    offices: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class CalendarItem:
    """Something with a date for a calendar: a to-do (VTODO) or an all-day event."""

    uid: str
    summary: str
    description: str
    day: dt.date
    # The time of day, when one was set (aware).
    moment: dt.datetime | None = None


Rows = Callable[[Session, Scope], Iterator[tuple[Value, ...]]]
CalendarItems = Callable[[Session, Scope], Iterator[CalendarItem]]


@dataclass(frozen=True)
class Section:
    name: str
    columns: tuple[Column, ...]
    rows: Rows
    # The human report (Markdown) groups by this column's value, then per section ...
    group_by: str = "room"
    # ... and within a group by this column's value (an agreement's state), in this order.
    split_by: str | None = None
    split_order: tuple[str, ...] = ()
    calendar: CalendarItems | None = None

    def title(self, lang: str) -> str:
        return i18n.plain(lang, f"export.section.{self.name}")

    def headers(self, lang: str) -> list[str]:
        return [i18n.plain(lang, f"export.column.{self.name}.{c.key}") for c in self.columns]

    def index(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)


def local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A stored moment as wall-clock time of the export's zone, without the zone: what
    spreadsheets and CSV readers understand."""
    return moment.astimezone(tz).replace(tzinfo=None)


def text_value(column: Column, value: Value, scope: Scope) -> str:
    """A value as text (CSV, Markdown): dates ISO, times in the export's zone."""
    value = column.show(value, scope.lang)
    tz = scope.tz
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{local(value, tz):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
