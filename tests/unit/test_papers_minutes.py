"""`!sitzung protokoll N pdf`: a meeting's minutes as a PDF to sign and file — the minutes
as `!sitzung protokoll N` shows them, whether they are approved ("Genehmigt am …") or
still a draft, and lines for the signatures of the chair and the minute-taker.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin; the meeting ends at 11:15,
so with the default 14 days objections are possible until Monday, 23 March, and the
minutes are approved at the reminder hour on Tuesday, 24 March.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import SQLModel

from bot.runtime.scheduler import run_timers
from commands.core.defaults import Defaults
from commands.core.timers import TimerEnv
from commands.papers.document import render_pdf
from commands.papers.minutes import minutes_paper
from storage.db import Database
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, CHAIR, REGISTRY, ROOM, Dialog, Sent
from tests.export_data import Uploads, keep_uploads
from tests.papers_support import open_pdf, pages, squeezed, words, write_artifacts

COMMITTEE = "Steuerungsgruppe Bildung"
HOSTILE = "Raum <i>buchen</i> & </li> {{ 7 * 7 }}"
APPROVAL_AT = dt.datetime(2026, 3, 24, 9, 0, tzinfo=BERLIN)
TIMERS = [t for t in REGISTRY.timers if t.name == "minutes-approval"]


@dataclass(frozen=True)
class Minutes:
    file_msg: Sent
    filename: str
    draft: bytes
    # The same draft built again outside the chat, from the same data and day.
    again: bytes
    approved: bytes


def _empty(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="module")
def minutes(sqlite_database: Database) -> Iterator[Minutes]:
    """A meeting with a roll call and an agreement; its minutes as a PDF the day it ended
    (a draft) and after the objection period (approved)."""
    _empty(sqlite_database)
    with sqlite_database.session() as s:
        seed.room(s, ROOM, name=COMMITTEE)
    with pytest.MonkeyPatch.context() as patch:
        uploads: Uploads = keep_uploads(patch)
        dialog = Dialog(sqlite_database)
        dialog.say(CHAIR, "!sitzung start Jahresplanung 2027")
        dialog.say(ANNA, "!anwesend")
        dialog.say(BEN, f"!verabredung {HOSTILE} @ben bis 20.3.")
        dialog.now += dt.timedelta(hours=1)
        dialog.say(CHAIR, "!sitzung ende")
        [file_msg] = dialog.say(ANNA, "!sitzung protokoll 1 pdf")
        name, _mimetype, draft = uploads[file_msg.event_id]
        with sqlite_database.session() as s:
            paper = minutes_paper(s, ROOM, 1, "de", defaults=Defaults(), now=dialog.now)
            again = render_pdf(paper)
        with sqlite_database.session() as s:
            env = TimerEnv(defaults=Defaults(), members=lambda room: dialog.members)
            run_timers(s, APPROVAL_AT, env, TIMERS)
        dialog.now = APPROVAL_AT + dt.timedelta(hours=2)
        [later] = dialog.say(BEN, "!sitzung protokoll pdf 1")
        approved = uploads[later.event_id][2]
    yield Minutes(file_msg, name, draft, again, approved)
    _empty(sqlite_database)


def test_the_minutes_come_as_a_pdf_named_by_meeting_and_committee(minutes: Minutes) -> None:
    write_artifacts("protokoll-entwurf-pdf", minutes.draft)
    write_artifacts("protokoll-genehmigt-pdf", minutes.approved)
    assert minutes.file_msg.content["msgtype"] == "m.file"
    assert minutes.file_msg.content["info"]["mimetype"] == "application/pdf"
    assert minutes.filename == "Protokoll-Sitzung-1-Steuerungsgruppe-Bildung.pdf"
    assert minutes.file_msg.body == f"Protokoll der Sitzung #1 – {COMMITTEE} (PDF)"


def test_the_pdf_holds_the_minutes_as_the_chat_shows_them(minutes: Minutes) -> None:
    text = words(minutes.draft)
    assert len(pages(minutes.draft)) == 1
    assert "Ergebnisprotokoll der Sitzung #1" in text
    assert f"{COMMITTEE} · Sitzung #1 am Mo., 9. März 2026" in text  # every page's header
    assert "Mo., 9. März 2026, 10:15–11:15 Uhr" in text
    assert "Thema: Jahresplanung 2027" in text
    assert "Anwesend (2): Anna Schmidt, Vorsitz Meyer" in text
    assert "Außerdem im Chat, ohne Bestätigung der Anwesenheit (1): Ben Okafor" in text
    assert "Neu festgehalten (1)" in text
    # What a member wrote is text, never markup or a template.
    assert squeezed(f"#1 „{HOSTILE}“ – verantwortlich: Ben Okafor") in squeezed(minutes.draft)
    assert "49" not in text


def test_a_draft_says_it_is_not_approved_and_until_when_to_object(minutes: Minutes) -> None:
    text = words(minutes.draft)
    assert "Entwurf – noch nicht genehmigt" in text
    assert squeezed("Einspruch ist bis Mo., 23. März 2026 möglich") in squeezed(minutes.draft)
    assert "Genehmigt" not in text


def test_after_the_objection_period_the_minutes_say_when_they_were_approved(
    minutes: Minutes,
) -> None:
    text = words(minutes.approved)
    assert "Genehmigt am Di., 24. März 2026" in text
    assert squeezed("Bis Mo., 23. März 2026 hat niemand Einspruch erhoben.") in squeezed(
        minutes.approved
    )
    assert "Entwurf" not in text


def test_the_chair_and_the_minute_taker_sign_below_the_minutes(minutes: Minutes) -> None:
    text = words(minutes.draft)
    assert "Unterschriften" in text
    chair, taker = text.index("Vorsitz Ort, Datum"), text.index("Protokollführung Ort, Datum")
    assert text.index("Neu festgehalten") < chair < taker


def test_the_pdf_is_tagged_in_german_and_two_builds_are_the_same_bytes(minutes: Minutes) -> None:
    assert minutes.again == minutes.draft
    with open_pdf(minutes.draft) as doc:
        assert str(doc.Root.Lang) == "de"
        assert "/StructTreeRoot" in doc.Root


@pytest.mark.parametrize(
    ("lang", "command", "answer"),
    [
        ("de", "!sitzung protokoll abc pdf", "„abc“ ist keine Nummer einer Sitzung"),
        ("de", "!sitzung protokoll 7 pdf", "In diesem Raum gibt es keine Sitzung #7"),
        ("de", "!sitzung protokoll 2 pdf", "Sitzung #2 läuft noch"),
        ("en", "!meeting minutes abc pdf", "“abc” is not a meeting number"),
        ("en", "!meeting minutes 7 pdf", "This room has no meeting #7"),
        ("en", "!meeting minutes 2 pdf", "Meeting #2 is still running"),
    ],
)
def test_a_meeting_that_cannot_be_filed_is_answered_at_once_in_the_room_s_language(
    sqlite_db: Database, lang: str, command: str, answer: str
) -> None:
    with sqlite_db.session() as s:
        seed.room(s, ROOM, name=COMMITTEE, settings={"language": lang})
    dialog = Dialog(sqlite_db)
    for start_or_end in ("start", "end", "start"):  # #1 ended, #2 running
        dialog.say(CHAIR, f"!meeting {start_or_end}")
    [reply] = dialog.say(ANNA, command)
    assert reply.content["msgtype"] == "m.notice"
    assert answer in reply.body
