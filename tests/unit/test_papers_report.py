"""`!bericht pdf [zeitraum]`: the leadership's Beschlusskontrolle as a PDF to file — the
report `!bericht` gives in the chat, every line and cell in the same words, complete, on
A4 pages headed by the committees and the period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from storage.db import Database
from tests.dialog import BERLIN, CHAIR, COORDINATOR, Dialog, Sent
from tests.export_data import Uploads, keep_uploads
from tests.papers_support import empty, open_pdf, pages, squeezed, words, write_artifacts
from tests.unit.test_desk_report import first_quarter, quiet_year


@dataclass(frozen=True)
class Filed:
    file_msg: Sent
    filename: str
    mimetype: str
    pdf: bytes
    # What `!bericht` says of the same period in the chat.
    chat: str


@dataclass(frozen=True)
class Quarter:
    everything: Filed
    chair: Filed


@pytest.fixture(scope="module")
def quarter(sqlite_database: Database) -> Iterator[Quarter]:
    """The first quarter of 2026 (tests.unit.test_desk_report.first_quarter) as the
    coordination and the Schulausschuss's chair file it."""
    empty(sqlite_database)
    with pytest.MonkeyPatch.context() as patch:
        uploads: Uploads = keep_uploads(patch)
        dialog = Dialog(sqlite_database)
        first_quarter(dialog)

        def filed(sender: str, asked: str) -> Filed:
            [file_msg] = dialog.say(sender, f"!bericht pdf {asked}")
            name, mimetype, data = uploads[file_msg.event_id]
            return Filed(file_msg, name, mimetype, data, dialog.text(sender, f"!bericht {asked}"))

        found = Quarter(filed(COORDINATOR, "quartal"), filed(CHAIR, "Q1 2026"))
    write_artifacts("bericht-pdf", found.everything.pdf)
    yield found
    empty(sqlite_database)


def test_the_report_comes_as_a_pdf_named_by_the_period(quarter: Quarter) -> None:
    filed = quarter.everything
    assert filed.file_msg.content["msgtype"] == "m.file"
    assert filed.mimetype == "application/pdf"
    assert filed.filename == "Beschlusskontrolle-2026-Q1.pdf"
    assert filed.file_msg.body == (
        "Beschlusskontrolle 1. Quartal 2026 als PDF (barrierefrei, zum Ablegen)."
    )


def test_every_line_of_the_chat_report_is_in_the_pdf_in_the_same_words(quarter: Quarter) -> None:
    filed = quarter.everything
    text = squeezed(filed.pdf)
    lines = [line.removeprefix("• ") for line in filed.chat.splitlines() if line.strip()]
    assert len(lines) > 30
    for line in lines:
        if line.startswith("#"):
            # A Beschlusskontrolle row: the chat's line is the PDF's table row, cell by
            # cell ("#1 Text · Amt · Frist 15.02.2026 · überfällig · Grund: …").
            number, rest = line[1:].split(" ", 1)
            cells = [number, *rest.split(" · ")]
            cells = [c.removeprefix("Frist ").removeprefix("Grund: ") for c in cells]
            assert squeezed("".join(cells)) in text, line
        else:
            assert squeezed(line) in text, line


def test_the_pages_are_headed_by_committees_and_period_and_counted(quarter: Quarter) -> None:
    found = pages(quarter.everything.pdf)
    assert len(found) == 2
    for number, page in enumerate(found, start=1):
        assert "2 Gremien · 1. Quartal 2026" in page
        assert "Beschlusskontrolle: 1. Quartal 2026" in page
        assert f"Stand: Do., 2. April 2026 Seite {number} von 2" in page


def test_the_report_is_tagged_german_with_its_title(quarter: Quarter) -> None:
    with open_pdf(quarter.everything.pdf) as doc:
        assert "/StructTreeRoot" in doc.Root
        assert bool(doc.Root.MarkInfo.Marked)
        assert str(doc.Root.Lang) == "de"
        assert str(doc.docinfo.Title) == "Beschlusskontrolle: 1. Quartal 2026"
        assert str(doc.docinfo.CreationDate).startswith("D:20260402")


def test_a_chair_files_their_own_committees_report_only(quarter: Quarter) -> None:
    filed = quarter.chair
    assert filed.filename == "Beschlusskontrolle-Schulausschuss-2026-Q1.pdf"
    text = words(filed.pdf)
    assert "Schulausschuss · 1. Quartal 2026" in text
    assert "Zahlen an das Landesamt melden" in text
    assert "Jugendhilfe" not in text


def test_a_period_that_cannot_be_reported_is_refused_as_for_the_chat(dialog: Dialog) -> None:
    quiet_year(dialog)
    assert dialog.text(COORDINATOR, "!bericht pdf gestern") == dialog.text(
        COORDINATOR, "!bericht gestern"
    )
    answer = dialog.text(COORDINATOR, "!bericht pdf April 2027")
    assert answer.startswith("Der Zeitraum „April 2027“ hat noch nicht begonnen.")
    dialog.say(CHAIR, "!einstellungen sprache en")
    answer = dialog.text(COORDINATOR, "!report pdf yesterday")
    assert answer.startswith("I don't understand the period “yesterday”.")


def test_the_report_in_english(dialog: Dialog, monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = keep_uploads(monkeypatch)
    quiet_year(dialog)
    dialog.now = dt.datetime(2026, 2, 3, 9, tzinfo=BERLIN)
    dialog.say(CHAIR, "!einstellungen sprache en")
    [file_msg] = dialog.say(COORDINATOR, "!report pdf")
    name, _, pdf = uploads[file_msg.event_id]
    assert name == "Decision-tracking-2026-01.pdf"
    [page] = pages(pdf)
    assert "Decision tracking: January 2026" in page
    assert "Jahresplanung abstimmen" in page
    assert "Page 1 of 1" in page
    with open_pdf(pdf) as doc:
        assert str(doc.Root.Lang) == "en"
