"""CSV: a ZIP with one CSV file per section (a sheet of the XLSX each), or one section as a
plain CSV file, RFC 4180 as the csv module writes it (comma, CRLF, quotes doubled), UTF-8
with a byte order mark so that Excel reads umlauts right. Rows stream into the ZIP entry;
nothing is kept.

A CSV is made for a spreadsheet, which reads a cell starting with `=`, `+`, `-` or `@` as a
formula (and one starting with a tab or CR after trimming it): an agreement "=HYPERLINK(…)"
would run in the coordinator's Excel. Such cells get a leading `'` (OWASP's rule for CSV
injection), which spreadsheets show as text and the reader sees at once."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from typing import BinaryIO

from sqlmodel import Session

from commands.exports.rendering import Progress, counted
from commands.exports.sections import Scope, Section, text_value

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"; ASVS 1.2.10
# adds NUL), with line feed and the full-width signs some locales' Excel treats alike.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutral(cell: str) -> str:
    """The cell as a spreadsheet shows it without running it: a leading `'` when it would
    start a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def entry_name(section: Section, lang: str) -> str:
    return section.title(lang).lower().replace(" ", "-").replace("/", "-") + ".csv"


def _write(
    db: Session, section: Section, scope: Scope, text: io.TextIOWrapper, progress: Progress
) -> None:
    writer = csv.writer(text)
    writer.writerow([neutral(h) for h in section.headers(scope.lang)])
    columns = section.columns
    for row in counted(section.rows(db, scope), section.name, progress):
        writer.writerow(
            [neutral(text_value(c, v, scope)) for c, v in zip(columns, row, strict=True)]
        )


def render(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            with (
                archive.open(entry_name(section, scope.lang), "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            ):
                _write(db, section, scope, text, progress)


def render_plain(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    """One section as a plain CSV file (not a ZIP)."""
    if len(sections) != 1:
        raise ValueError(f"a plain CSV holds one section, not {len(sections)}")
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    _write(db, sections[0], scope, text, progress)
    text.flush()
    # The caller owns `out`: leave it open.
    text.detach()
