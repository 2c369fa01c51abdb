"""Each export format read back with a real reader: openpyxl, csv, icalendar, and the
Markdown report as a coordinator reads it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from icalendar import Calendar
from sqlmodel import select

from commands.exports.run import make_scope
from storage.db import Database
from storage.figures.period import Period
from storage.models import Agreement, AgreementHistory, AgreementStatus
from tests.dialog import BERLIN
from tests.export_data import EXPORTED_AT, fill_year, render

NOW = EXPORTED_AT


@pytest.fixture
def year(sqlite_db: Database) -> Database:
    fill_year(sqlite_db, per_room=40)
    return sqlite_db


def when(component: Any, name: str) -> Any:
    """A date property's value (date or aware datetime)."""
    return component[name].dt


def stored(db: Database) -> tuple[list[Agreement], int]:
    with db.session() as s:
        agreements = list(s.exec(select(Agreement)))
        history = len(list(s.exec(select(AgreementHistory))))
    return agreements, history


def test_xlsx_has_a_sheet_per_section_frozen_headers_and_real_dates_and_numbers(
    year: Database,
) -> None:
    agreements, history = stored(year)
    wb = openpyxl.load_workbook(io.BytesIO(render(year, "xlsx")))
    assert wb.sheetnames == ["Verabredungen", "Verlauf", "Sitzungen", "Umfragen", "Beschlüsse"]
    sheet = wb["Verabredungen"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:7] == [
        "Gremium",
        "Nummer",
        "Verabredung",
        "Status",
        "Verantwortlich",
        "Amt",
        "Frist",
    ]
    assert header[8] == "Grund der Verzögerung"
    assert sheet.max_row == len(agreements) + 1
    assert wb["Verlauf"].max_row == history + 1
    assert round(sheet.column_dimensions["C"].width) == 61  # 60 characters and the padding
    first = [c.value for c in sheet[2]]
    assert first[0] == "Netzwerk Frühe Bildung"  # rooms in order of their ID
    assert isinstance(first[1], int)
    assert first[2].startswith("Entwurf Bildungsbericht an Schulämter")
    assert first[6] is None  # #1 of each room has no due date: an empty cell
    with_due = next(row for row in sheet.iter_rows(min_row=2) if row[6].value is not None)
    assert isinstance(with_due[6].value, dt.datetime)  # Excel stores a date as a date-time
    assert with_due[6].is_date
    assert with_due[6].number_format == "DD.MM.YYYY"
    assert with_due[10].is_date  # recorded at: a date and time, in Berlin time
    states = {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert states == {"offen", "überfällig", "erledigt", "verworfen"}


def test_csv_zip_has_one_file_per_section_with_bom_umlauts_quotes_and_newlines(
    year: Database,
) -> None:
    agreements, history = stored(year)
    archive = zipfile.ZipFile(io.BytesIO(render(year, "csv")))
    assert archive.namelist() == [
        "verabredungen.csv",
        "verlauf.csv",
        "sitzungen.csv",
        "umfragen.csv",
        "beschlüsse.csv",
    ]
    raw = archive.read("verabredungen.csv")
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["Gremium", "Nummer", "Verabredung"]
    assert len(rows) == len(agreements) + 1
    texts = {row[2] for row in rows[1:]}
    assert {a.text for a in agreements} == texts
    assert any("\n" in t and "Jugendamt" in t for t in texts)
    assert any('„Fachtag“ buchen, "groß" genug' in t for t in texts)
    assert b'""gro\xc3\x9f""' in raw  # quotes doubled, as RFC 4180 says
    assert b"\r\n" in raw
    history_rows = list(csv.reader(io.StringIO(archive.read("verlauf.csv").decode("utf-8-sig"))))
    assert len(history_rows) == history + 1


def test_ics_has_a_todo_for_each_open_agreement_with_a_due_date(year: Database) -> None:
    agreements, _ = stored(year)
    due = {
        f"gremienbot-agreement-{a.number}-{a.room_id}": (a.number, a.text, a.due_date, a.due_time)
        for a in agreements
        if a.status == AgreementStatus.OPEN and a.due_date is not None
    }
    cal = Calendar.from_ical(render(year, "ics"))
    todos = list(cal.walk("VTODO"))
    assert len(todos) == len(due) > 10
    uids = {str(t["UID"]) for t in todos}
    assert len(uids) == len(todos)
    for todo in todos:
        number, text, day, clock = due[str(todo["UID"])]
        assert str(todo["SUMMARY"]) == f"#{number} {text}"
        value = when(todo, "DUE")
        if clock is None:
            assert value == day
        else:
            assert value.astimezone(BERLIN) == dt.datetime.combine(day, clock, tzinfo=BERLIN)
        assert "Gremium: " in str(todo["DESCRIPTION"])
    # The same agreement keeps its UID in every export: calendars update, not duplicate.
    again = Calendar.from_ical(render(year, "ics"))
    assert {str(t["UID"]) for t in again.walk("VTODO")} == uids


def test_ics_events_are_all_day_events_for_outlook(year: Database) -> None:
    cal = Calendar.from_ical(render(year, "ics-events"))
    todo_count = len(list(Calendar.from_ical(render(year, "ics")).walk("VTODO")))
    events = list(cal.walk("VEVENT"))
    assert len(events) == todo_count
    assert not list(cal.walk("VTODO"))
    for event in events:
        start, end = when(event, "DTSTART"), when(event, "DTEND")
        assert not isinstance(start, dt.datetime)
        assert end - start == dt.timedelta(days=1)


def test_markdown_report_lists_each_room_with_overdue_open_and_done_then_history(
    year: Database,
) -> None:
    report = render(year, "md").decode("utf-8")
    assert report.startswith("# Verabredungen der Gremien\n")
    rooms = [line for line in report.splitlines() if line.startswith("## ")]
    assert rooms == [
        "## Netzwerk Frühe Bildung",
        "## Steuerungsgruppe Bildung",
        "## AG Übergang Schule–Beruf",
    ]
    part = report.split("## Steuerungsgruppe Bildung")[1].split("\n## ")[0]
    order = [
        part.index(h) for h in ("#### überfällig", "#### offen", "#### erledigt", "### Verlauf")
    ]
    assert order == sorted(order)
    # User text cannot break the tables or inject markup.
    assert "Einladung \\<Netzwerktreffen\\> & \\*Tagesordnung\\* \\| Protokoll" in part
    assert "\n| Nummer | Verabredung | Verantwortlich |" in part


def test_a_period_keeps_the_agreements_alive_in_it_and_the_history_made_in_it(
    year: Database,
) -> None:
    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    scope = make_scope(room_ids=None, period=march, lang="en", tz=BERLIN, now=NOW)
    wb = openpyxl.load_workbook(io.BytesIO(render(year, "xlsx", scope)))
    assert wb.sheetnames == ["Agreements", "History", "Meetings", "Polls", "Decisions"]
    for row in wb["History"].iter_rows(min_row=2, values_only=True):
        assert dt.datetime(2026, 3, 1) <= row[2] < dt.datetime(2026, 4, 1)
    start, end = dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 1)
    for row in wb["Agreements"].iter_rows(min_row=2, values_only=True):
        recorded, closed = row[10], row[11]
        assert recorded < end
        assert closed is None or closed >= start
    agreements, _ = stored(year)
    assert 0 < wb["Agreements"].max_row - 1 < len(agreements)


def test_one_rooms_export_holds_only_that_room(year: Database) -> None:
    scope = make_scope(
        room_ids=("!fruehe:example.org",), period=None, lang="de", tz=BERLIN, now=NOW
    )
    archive = zipfile.ZipFile(io.BytesIO(render(year, "csv", scope)))
    rows = list(csv.reader(io.StringIO(archive.read("verabredungen.csv").decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == {"Netzwerk Frühe Bildung"}
    assert len(rows) == 41
