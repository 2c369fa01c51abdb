"""XLSX: one sheet per section, written by XlsxWriter in constant-memory mode (each row is
flushed to disk as it is written, not kept), with real dates and numbers, a frozen bold
header row and set column widths. XlsxWriter writes large sheets several times faster
than openpyxl; the tests read the files back with openpyxl, as Excel would open them."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlmodel import Session

from commands.exports.rendering import Progress, counted
from commands.exports.sections import Column, ColumnType, Scope, Section, Value, local

if TYPE_CHECKING:
    import xlsxwriter
    import xlsxwriter.worksheet

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
# Sheet names: at most 31 characters, none of these.
_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))
# Writes one non-empty cell: (row, column, value).
CellWriter = Callable[[int, int, Value], None]


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
    # A writer per column, chosen once: the loop below runs for every cell of large sheets.
    writers = [_cell_writer(ws, formats, column, scope) for column in section.columns]
    for r, row in enumerate(counted(section.rows(db, scope), section.name, progress), 1):
        for c, (write, value) in enumerate(zip(writers, row, strict=True)):
            if value is not None:
                write(r, c, value)


def _cell_writer(
    ws: xlsxwriter.worksheet.Worksheet,
    formats: dict[object, xlsxwriter.format.Format],
    column: Column,
    scope: Scope,
) -> CellWriter:
    lang, tz = scope.lang, scope.tz
    write_string, write_datetime, write = ws.write_string, ws.write_datetime, ws.write

    def plain(r: int, c: int, value: Value) -> None:
        if isinstance(value, str):
            write_string(r, c, value)
        else:
            write(r, c, value)

    def labelled(r: int, c: int, value: Value) -> None:
        plain(r, c, column.show(value, lang))

    other = plain if column.labels is None else labelled

    if column.type == ColumnType.DATETIME:
        moment_format = formats[ColumnType.DATETIME]

        def moment(r: int, c: int, value: Value) -> None:
            if isinstance(value, dt.datetime):
                write_datetime(r, c, local(value, tz), moment_format)
            else:
                other(r, c, value)

        return moment
    if column.type == ColumnType.DATE:
        day_format = formats[ColumnType.DATE]

        def day(r: int, c: int, value: Value) -> None:
            if isinstance(value, dt.date):
                write_datetime(r, c, value, day_format)
            else:
                other(r, c, value)

        return day
    return other
