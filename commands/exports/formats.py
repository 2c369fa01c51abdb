"""The export formats: one module each renders any list of sections; this is their list."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlmodel import Session

from commands.exports.sections import Scope, Section, Value

# (what is being written, rows so far): a terminal shows it while a long export runs.
Progress = Callable[[str, int], None]
Render = Callable[[Session, Sequence[Section], Scope, BinaryIO, Progress], None]
PROGRESS_EVERY = 5000


def no_progress(_what: str, _rows: int) -> None:
    return None


def counted(
    rows: Iterator[tuple[Value, ...]], what: str, progress: Progress
) -> Iterator[tuple[Value, ...]]:
    n = 0
    for n, row in enumerate(rows, 1):
        if n % PROGRESS_EVERY == 0:
            progress(what, n)
        yield row
    progress(what, n)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    mimetype: str
    render: Render
    # False: the format is the complete record (the JSON dump), a period does not apply.
    takes_period: bool = True


def all_formats() -> dict[str, Format]:
    # Imported here: each module imports this one for Progress.
    from commands.exports import csv_format, ics_format, json_format, md_format, xlsx_format

    found = (
        Format("xlsx", "xlsx", xlsx_format.MIMETYPE, xlsx_format.render),
        Format("csv", "zip", "application/zip", csv_format.render),
        Format("json", "json", "application/json", json_format.render),
        Format("ics", "ics", ics_format.MIMETYPE, ics_format.render_todos),
        Format("ics-events", "ics", ics_format.MIMETYPE, ics_format.render_events),
        Format("md", "md", "text/markdown", md_format.render),
    )
    return {f.name: f for f in found}


def dump_format() -> Format:
    """The operator's complete dump for backup and migration (`gremienbot export --format
    json` on the command line): every table, answers under keyed voter hashes. Never a
    format of the chat's `!export`, whose JSON carries the sections (results only)."""
    from commands.exports import json_format

    return Format("json", "json", "application/json", json_format.render_dump, takes_period=False)


def plain_csv_format() -> Format:
    """One section as a plain CSV file (`gremienbot export --format csv --section …`)."""
    from commands.exports import csv_format

    return Format("csv", "csv", "text/csv", csv_format.render_plain)


# Other names people type for a format (folded: lower case, umlauts as ae/oe/ue).
ALIASES = {
    "excel": "xlsx",
    "zip": "csv",
    "ical": "ics",
    "kalender": "ics",
    "calendar": "ics",
    "termine": "ics-events",
    "events": "ics-events",
    "outlook": "ics-events",
    "markdown": "md",
    "bericht": "md",
    "report": "md",
}
