"""XLSX: one sheet per section, written by openpyxl in write-only mode (rows are streamed
to the file, not kept), with real dates and numbers, a frozen header row and set widths."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import Session

from commands.exports.formats import Progress, counted
from commands.exports.sections import ColumnType, Scope, Section, Value, local

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
    wb = Workbook(write_only=True)
    for section in sections:
        ws = wb.create_sheet(sheet_name(section.title(scope.lang)))
        _write(ws, db, section, scope, progress)
    wb.save(out)


def _write(
    ws: WriteOnlyWorksheet, db: Session, section: Section, scope: Scope, progress: Progress
) -> None:
    # Write-only sheets take their layout before the first row.
    ws.freeze_panes = "A2"
    for i, column in enumerate(section.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    bold = Font(bold=True)
    header = []
    for title in section.headers(scope.lang):
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    # Only dates need a cell object of their own (their display format); plain values are
    # appended as they are, which keeps large sheets fast.
    kinds = [c.type for c in section.columns]
    columns = section.columns
    for row in counted(section.rows(db, scope), section.name, progress):
        values: list[Value | WriteOnlyCell] = []
        for column, kind, value in zip(columns, kinds, row, strict=True):
            if value is None:
                values.append(None)
            elif kind == ColumnType.DATETIME and isinstance(value, dt.datetime):
                cell = WriteOnlyCell(ws, value=local(value, scope.tz))
                cell.number_format = DATETIME_FORMAT
                values.append(cell)
            elif kind == ColumnType.DATE:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = DATE_FORMAT
                values.append(cell)
            else:
                values.append(column.show(value, scope.lang))
        ws.append(values)
