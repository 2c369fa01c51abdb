"""`!liste pdf`: the room's open agreements as a one-page table for the meeting's handout —
number, text, who is responsible (as `!liste` names them), due date, state with the
overdue ones marked; A4, the room's name and the day in the header."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from commands.core import i18n
from storage.db import Database
from tests import seed
from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog, Sent
from tests.export_data import Uploads, keep_uploads
from tests.papers_support import empty, open_pdf, pages, squeezed, words, write_artifacts

HOSTILE_ROOM = "AG <b>Übergang</b> </td> {{ room }}"
HOSTILE_TEXT = "Flyer <script>alert(1)</script> </td><td>drucken {{ 7 * 7 }}"


@dataclass(frozen=True)
class Handout:
    file_msg: Sent
    filename: str
    mimetype: str
    pdf: bytes


def _committee(database: Database, lang: str) -> Dialog:
    """#1 Ben, due Fri 13 March; #2 Anna, none; #3 Anna and Ben, due Wed 11 March;
    #4 Carla, overdue since Fri 6 March; #5 done; #6 hostile text, Carla, overdue."""
    empty(database)
    dialog = Dialog(database, room_name=HOSTILE_ROOM)
    with database.session() as s:
        seed.room(s, dialog.room_id, name=HOSTILE_ROOM, settings={"language": lang})
    earlier = dialog.now - dt.timedelta(days=7)
    dialog.say(CHAIR, "!verabredung Entwurf an Schulamt @ben bis nächsten Freitag")
    dialog.say(ANNA, "!verabredung Raum buchen")
    dialog.say(CHAIR, "!verabredung Einladung schreiben @anna @ben bis übermorgen")
    dialog.say(CARLA, "!verabredung Protokoll verschicken bis 6.3.", sent_at=earlier)
    dialog.say(CARLA, "!verabredung Altes Thema")
    dialog.say(CARLA, "!erledigt 5")
    dialog.say(CARLA, f"!verabredung {HOSTILE_TEXT} bis 2.3.", sent_at=earlier)
    return dialog


def _ask(sqlite_database: Database, lang: str, command: str) -> Iterator[Handout]:
    with pytest.MonkeyPatch.context() as patch:
        uploads: Uploads = keep_uploads(patch)
        dialog = _committee(sqlite_database, lang)
        [file_msg] = dialog.say(BEN, command)
        name, mimetype, data = uploads[file_msg.event_id]
    yield Handout(file_msg, name, mimetype, data)
    empty(sqlite_database)


@pytest.fixture(scope="module")
def handout(sqlite_database: Database) -> Iterator[Handout]:
    yield from _ask(sqlite_database, "de", "!liste pdf")


@pytest.fixture(scope="module")
def english(sqlite_database: Database) -> Iterator[Handout]:
    yield from _ask(sqlite_database, "en", "!list PDF")


def test_the_list_comes_as_a_pdf_file_named_by_room_and_day(handout: Handout) -> None:
    write_artifacts("liste-pdf", handout.pdf)
    assert handout.file_msg.content["msgtype"] == "m.file"
    assert handout.mimetype == "application/pdf"
    assert handout.filename == "Verabredungen-AG-b-Uebergang-b-td-room-2026-03-09.pdf"
    assert handout.pdf.startswith(b"%PDF-1.7")
    assert "Stand Mo., 9. März 2026" in handout.file_msg.body


def test_the_handout_is_one_page_of_open_agreements_by_due_date(handout: Handout) -> None:
    [page] = pages(handout.pdf)
    text = squeezed(page)
    order = [
        "Flyer",
        "Protokollverschicken",
        "Einladungschreiben",
        "EntwurfanSchulamt",
        "Raumbuchen",
    ]
    at = [text.index(item) for item in order]
    assert at == sorted(at)
    assert "AltesThema" not in text  # done
    assert "Seite 1 von 1" in page
    assert "5 offene Verabredungen" in words(handout.pdf)


def test_each_row_has_owners_as_the_list_names_them_due_date_and_state(handout: Handout) -> None:
    text = words(handout.pdf)
    assert "3 Einladung schreiben Anna Schmidt, Ben Okafor Mi., 11.3. offen" in text
    assert "2 Raum buchen Anna Schmidt ohne Frist offen" in text
    assert "4 Protokoll verschicken Carla Weber Fr., 6.3. überfällig" in text
    assert "2 Verabredungen sind überfällig (fett markiert)." in text


def test_room_name_and_agreement_text_are_printed_as_written(handout: Handout) -> None:
    text = squeezed(handout.pdf)
    assert squeezed(HOSTILE_TEXT) in text
    assert "49" not in text
    # In the lead and in the page header.
    assert text.count(squeezed(HOSTILE_ROOM)) == 2


def test_the_handout_is_tagged_german_with_its_title(handout: Handout) -> None:
    with open_pdf(handout.pdf) as doc:
        assert "/StructTreeRoot" in doc.Root
        assert str(doc.Root.Lang) == "de"
        assert str(doc.docinfo.Title) == "Offene Verabredungen"


def test_the_list_names_no_user_id(handout: Handout) -> None:
    text = squeezed(handout.pdf)
    assert ":example.org" not in text
    assert "@" not in text


def test_an_english_room_gets_the_english_handout(english: Handout) -> None:
    write_artifacts("list-pdf-en", english.pdf)
    [page] = pages(english.pdf)
    assert english.filename == "Agreements-AG-b-Uebergang-b-td-room-2026-03-09.pdf"
    text = words(english.pdf)
    assert "Open agreements" in text
    assert "3 Einladung schreiben Anna Schmidt, Ben Okafor Wed, 11 Mar open" in text
    assert "4 Protokoll verschicken Carla Weber Fri, 6 Mar overdue" in text
    assert "Page 1 of 1" in page
    with open_pdf(english.pdf) as doc:
        assert str(doc.Root.Lang) == "en"


def test_the_pdf_takes_no_filter(dialog: Dialog) -> None:
    answer = dialog.text(BEN, "!liste pdf erledigt")
    assert answer == i18n.plain("de", "papers.list.only_open", cmd="`!liste pdf`")
    assert "!liste pdf" in answer


def test_an_empty_room_gets_a_handout_that_says_so(
    dialog: Dialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = keep_uploads(monkeypatch)
    [file_msg] = dialog.say(BEN, "!liste pdf")
    _, _, data = uploads[file_msg.event_id]
    assert "Keine offenen Verabredungen." in words(data)
