"""XLSX: one sheet per section, written by XlsxWriter in constant-memory mode (each row is
flushed to disk as it is written, not kept), with real dates and numbers, a frozen bold
header row and set column widths. XlsxWriter writes large sheets several times faster
than openpyxl; the tests read the files back with openpyxl, as Excel would open them."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlmodel import Session

from commands.exports.rendering import Progress, counted
from commands.exports.sections import ColumnType, Scope, Section, local

if TYPE_CHECKING:
    import xlsxwriter

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
# Sheet names: at most 31 characters, none of these.
_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))


def sheet_name(title: str) -> str:
    return title.translate(_FORBIDDEN)[:31]


def render(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    # Imported for an export only: 10 MB of the running bot's memory otherwise.
    import xlsxwriter

    # Constant-memory mode writes through temporary files; the workbook is then copied
    # to `out`, which may be any binary stream (a file, or bytes for a chat export).
    with tempfile.TemporaryDirectory(prefix="gremienbot-xlsx-") as tmp:
        path = Path(tmp) / "export.xlsx"
        wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": tmp,
                "remove_timezone": True,
                # User text is a string cell, never a formula or a link, whatever it
                # starts with ("=HYPERLINK(…)"): also where write() is used, not
                # write_string().
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        formats: dict[object, xlsxwriter.format.Format] = {
            "header": wb.add_format({"bold": True}),
            ColumnType.DATE: wb.add_format({"num_format": DATE_FORMAT}),
            ColumnType.DATETIME: wb.add_format({"num_format": DATETIME_FORMAT}),
        }
        for section in sections:
            _write(wb, formats, db, section, scope, progress)
        wb.close()
        with path.open("rb") as written:
            shutil.copyfileobj(written, out)


def _write(
    wb: xlsxwriter.Workbook,
    formats: dict[object, xlsxwriter.format.Format],
    db: Session,
    section: Section,
    scope: Scope,
    progress: Progress,
) -> None:
    ws = wb.add_worksheet(sheet_name(section.title(scope.lang)))
    ws.freeze_panes(1, 0)
    for i, column in enumerate(section.columns):
        ws.set_column(i, i, column.width)
    ws.write_row(0, 0, section.headers(scope.lang), formats["header"])
    columns = section.columns
    for r, row in enumerate(counted(section.rows(db, scope), section.name, progress), 1):
        for c, (column, value) in enumerate(zip(columns, row, strict=True)):
            if value is None:
                continue
            if column.type == ColumnType.DATETIME and isinstance(value, dt.datetime):
                ws.write_datetime(r, c, local(value, scope.tz), formats[ColumnType.DATETIME])
            elif column.type == ColumnType.DATE and isinstance(value, dt.date):
                ws.write_datetime(r, c, value, formats[ColumnType.DATE])
            else:
                shown = column.show(value, scope.lang)
                if isinstance(shown, str):
                    ws.write_string(r, c, shown)
                else:
                    ws.write(r, c, shown)
