"""CSV: a ZIP with one CSV file per section (a sheet of the XLSX each), RFC 4180 as the
csv module writes it (comma, CRLF, quotes doubled), UTF-8 with a byte order mark so that
Excel reads umlauts right. Rows stream into the ZIP entry; nothing is kept."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from typing import BinaryIO

from sqlmodel import Session

from commands.exports.formats import Progress, counted
from commands.exports.sections import Scope, Section, text_value


def entry_name(section: Section, lang: str) -> str:
    return section.title(lang).lower().replace(" ", "-").replace("/", "-") + ".csv"


def render(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            with (
                archive.open(entry_name(section, scope.lang), "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            ):
                writer = csv.writer(text)
                writer.writerow(section.headers(scope.lang))
                columns = section.columns
                for row in counted(section.rows(db, scope), section.name, progress):
                    writer.writerow(
                        [text_value(c, v, scope) for c, v in zip(columns, row, strict=True)]
                    )
