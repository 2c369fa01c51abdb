"""The export formats: one module each renders any list of sections; this is their list."""

from __future__ import annotations

from commands.exports import csv_format, ics_format, json_format, md_format, xlsx_format
from commands.exports.rendering import Format


def all_formats() -> dict[str, Format]:
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
    return Format("json", "json", "application/json", json_format.render_dump, takes_period=False)


def plain_csv_format() -> Format:
    """One section as a plain CSV file (`gremienbot export --format csv --section …`)."""
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
