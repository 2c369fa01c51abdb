"""`!auswertung pdf`: the committee's evaluation as a PDF to file — what the chair reads
in the chat's report (participation, each statement's mean and agreement beside the year
before, free texts, measures, pulses, agreements, the chart as vector graphics), and
what nobody may read there either: no member, nothing below three answers, and of a
survey still running only its participation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
import pytest
from sqlmodel import Session, SQLModel

from commands.core.defaults import Defaults
from commands.papers.document import render_html, render_pdf
from commands.papers.evaluation import evaluation_paper
from storage import evaluation
from storage.db import Database
from storage.figures.period import year
from tests import evaluation_helpers as build
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, CHAIR, COORDINATOR, ROOM, Dialog, Sent
from tests.export_data import Uploads, keep_uploads
from tests.papers_support import open_pdf, pages, squeezed, words, write_artifacts

COMMITTEE = "Gremium Übergang Schule–Beruf"
# Mid-December 2026: the survey of November has ended, the year is nearly over.
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=BERLIN)
PROGRESS = "Wir kommen in unseren Themen voran."
PREPARED = "Die Sitzungen sind gut vorbereitet."
FREE_TEXTS = ["Protokolle früher verschicken", "<b>Danke!</b>", "Mehr Zeit für Austausch"]
MEASURE = "Sitzungen auf 90 Minuten begrenzen"


@dataclass(frozen=True)
class Filed:
    file_msg: Sent
    filename: str
    mimetype: str
    pdf: bytes
    # The same paper built again outside the chat, from the same data and date.
    again: bytes


def _empty(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def at(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 18, 0, tzinfo=BERLIN)


def committee_year(s: Session, room: str = ROOM, *, running: bool = False) -> None:
    """This year's survey (ended, unless `running`) and last year's, pulses, agreements
    and a measure taken on last year's evaluation."""
    build.room(s, room, name=COMMITTEE)
    survey = build.survey(s, room, 2026, invited=12, participants=7)
    build.statement(s, survey, 1, PROGRESS, [5, 4, 4, 3, 5, 2, 4])
    build.statement(s, survey, 2, PREPARED, [1, 2])  # too few answers for a mean
    build.comments(s, survey, FREE_TEXTS)
    if running:
        survey.closed_at = None
        s.add(survey)
    before = build.survey(s, room, 2025, invited=10, participants=5)
    build.statement(s, before, 1, PROGRESS, [3, 3, 4])
    build.statement(s, before, 2, PREPARED, [5, 5])

    build.pulse(s, room, at(3, 2), [4, 5, 3])
    build.pulse(s, room, at(3, 23), [3, 3, 4])
    build.pulse(s, room, at(5, 11), [5, 5, 4])
    build.pulse(s, room, at(10, 12), [1, 5])  # too few votes to count

    build.agreement(s, room, at(3, 1), due=dt.date(2026, 3, 10), done_at=at(3, 9))
    build.agreement(s, room, at(4, 1), due=dt.date(2026, 4, 20))  # open and overdue
    measure = seed.agreement(
        s, room, MEASURE, by=CHAIR, at=at(1, 20), owners=[ANNA], due=dt.date(2026, 6, 30)
    )
    evaluation.mark_measure(s, measure, 2025)


@pytest.fixture(scope="module")
def filed(sqlite_database: Database) -> Iterator[Filed]:
    """The chair asks for the PDF in the room; the paper is built once more directly."""
    _empty(sqlite_database)
    with sqlite_database.session() as s:
        committee_year(s)
        s.commit()
    with pytest.MonkeyPatch.context() as patch:
        uploads: Uploads = keep_uploads(patch)
        dialog = Dialog(sqlite_database, now=NOW)
        [file_msg] = dialog.say(CHAIR, "!auswertung pdf")
        name, mimetype, data = uploads[file_msg.event_id]
    with sqlite_database.session() as s:
        paper = evaluation_paper(s, ROOM, year(2026), "de", defaults=Defaults(), now=NOW)
        again = render_pdf(paper)
    yield Filed(file_msg, name, mimetype, data, again)
    _empty(sqlite_database)


def test_the_chair_gets_the_evaluation_as_a_pdf_named_by_committee_and_year(
    filed: Filed,
) -> None:
    write_artifacts("auswertung-pdf", filed.pdf)
    assert filed.file_msg.content["msgtype"] == "m.file"
    assert filed.file_msg.room_id == ROOM
    assert filed.filename == "Auswertung-Gremium-Uebergang-Schule-Beruf-2026.pdf"
    assert filed.mimetype == "application/pdf"
    assert filed.file_msg.body == f"Auswertung 2026 – {COMMITTEE} (PDF)"
    assert filed.pdf.startswith(b"%PDF-")


def test_the_pdf_reads_like_the_chat_report(filed: Filed) -> None:
    text = words(filed.pdf)
    assert len(pages(filed.pdf)) == 2  # the figures, then the chart
    assert "Auswertung 2026" in text
    assert f"{COMMITTEE} · Auswertung 2026" in text  # every page's header
    assert "Jahresbefragung 2026" in text
    assert squeezed("7 von 12 Mitgliedern haben teilgenommen (58 %). (Vorjahr: 50 %)") in (
        squeezed(filed.pdf)
    )
    # The statement's row: mean, answers, agreement, distribution, the year before.
    assert squeezed(f"1 {PROGRESS} 3,9 7 71 % 0 · 1 · 1 · 3 · 2 3,3 / 33 %") in squeezed(filed.pdf)
    assert "Freitext – Was sollten wir ändern?" in text
    assert "Maßnahmen aus der Auswertung 2025" in text
    assert squeezed(f"#3 {MEASURE} – überfällig, Frist: Di., 30.6.") in squeezed(filed.pdf)
    assert squeezed("März 3,7 2 Mai 4,7 1") in squeezed(filed.pdf)
    assert "Pulse mit weniger als 3 Stimmen (nicht gezählt): 1" in text
    assert "Verabredungen 2026" in text
    assert squeezed("3 festgehalten, davon 1 erledigt, 1 fristgerecht, 2 überfällig") in (
        squeezed(filed.pdf)
    )


def test_a_statement_with_two_answers_shows_its_count_and_no_figure(filed: Filed) -> None:
    text = squeezed(filed.pdf)
    assert squeezed(f"2 {PREPARED} 2 Antworten – Mittelwert und Verteilung erst ab 3") in text
    # Its mean (1,5), agreement (0 %) and distribution (1 · 1 · 0 · 0 · 0) appear nowhere,
    # not even in the chart's words.
    assert "1,5" not in text
    assert " 0 %" not in words(filed.pdf)
    assert squeezed("1 · 1 · 0 · 0 · 0") not in text
    with open_pdf(filed.pdf) as doc:
        assert PREPARED not in " ".join(_alt_texts(doc))


def test_no_member_is_named_and_free_texts_stand_alphabetically_as_text(filed: Filed) -> None:
    text = words(filed.pdf)
    for name in ("Anna", "Ben", "Vorsitz Meyer", "@", "example.org", ANNA, BEN, CHAIR):
        assert name not in text
    # A member's markup is text; the order of answering does not show through.
    shown = [text.index(t) for t in sorted(FREE_TEXTS, key=str.casefold)]
    assert shown == sorted(shown)
    assert "<b>Danke!</b>" in text


def test_the_chart_is_vector_graphics_described_in_words(filed: Filed) -> None:
    with open_pdf(filed.pdf) as doc:
        # No raster image anywhere: the chart is drawn as paths.
        assert not [x for page in doc.pages for x in _images(page.Resources)]
        # The SVG as drawing commands: the bars, lines and letters' outlines as paths.
        assert _path_operators(doc.pages[1]) > 1000
        [alt] = _alt_texts(doc)
    assert alt.startswith("Diagramm. Links, Balken: Mittelwert je Aussage")
    assert f"„{PROGRESS}“ 3,9" in alt
    assert "eine Aussage mit weniger als 3 Antworten nicht gezeigt" in alt
    assert "März 3,7; Mai 4,7" in alt


def test_two_builds_of_the_same_data_and_day_are_the_same_bytes(filed: Filed) -> None:
    assert filed.again == filed.pdf


def test_while_the_survey_runs_the_paper_shows_participation_only(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s, running=True)
        paper = evaluation_paper(s, ROOM, year(2026), "de", defaults=Defaults(), now=NOW)
    html = render_html(paper)
    assert "7 von 12 Mitgliedern haben teilgenommen (58 %)" in html
    assert "Die Jahresbefragung läuft noch bis" in html
    for hidden in (PROGRESS, "3,9", "Freitext –", "Mehr Zeit für Austausch"):
        assert hidden not in html
    # The chart shows the pulses only.
    assert "keine Aussage mit mindestens 3 Antworten" in paper.context["chart"]["alt"]


def test_the_coordination_files_all_committees_and_nobody_else_may(
    sqlite_db: Database,
) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        seed.room(s, "!kita:example.org", name="AG Kita")
    with pytest.MonkeyPatch.context() as patch:
        uploads: Uploads = keep_uploads(patch)
        dialog = Dialog(sqlite_db, now=NOW)
        [refused] = dialog.say(CHAIR, "!auswertung pdf alle")
        [member] = dialog.say(ANNA, "!auswertung pdf")
        [file_msg] = dialog.say(COORDINATOR, "!auswertung alle pdf")
        name, _mimetype, pdf = uploads[file_msg.event_id]
    assert "Koordination" in refused.body
    assert "Vorsitz" in member.body
    write_artifacts("auswertung-alle-pdf", pdf)
    assert name == "Auswertung-alle-Gremien-2026.pdf"
    text = squeezed(pdf)
    assert squeezed("Auswertung 2026 – alle Gremien") in text
    assert squeezed(f"{COMMITTEE} 58 % (7/12), Vorjahr 50 %") in text
    assert squeezed("AG Kita") in text


@pytest.mark.parametrize(
    ("lang", "command", "answer"),
    [
        ("de", "!auswertung pdf Quatsch", "„Quatsch“"),
        ("de", "!auswertung pdf 2030", "2030"),
        ("en", "!evaluation pdf nonsense", "“nonsense”"),
        ("en", "!evaluation pdf 2030", "2030"),
    ],
)
def test_a_period_that_cannot_be_read_is_answered_at_once_in_the_room_s_language(
    sqlite_db: Database, lang: str, command: str, answer: str
) -> None:
    with sqlite_db.session() as s:
        seed.room(s, ROOM, name=COMMITTEE, settings={"language": lang})
    dialog = Dialog(sqlite_db, now=NOW)
    [reply] = dialog.say(CHAIR, command)
    assert reply.content["msgtype"] == "m.notice"
    assert answer in reply.body
    assert ("Zeitraum" if lang == "de" else "period") in reply.body


# ----------------------------------------------------------------------- reading the PDF


def _images(resources: Any) -> Iterator[Any]:
    """Every raster image the resources draw, inside forms too."""
    for xobject in (resources or {}).get("/XObject", {}).values():
        if xobject.get("/Subtype") == "/Image":
            yield xobject
        elif xobject.get("/Subtype") == "/Form":
            yield from _images(xobject.get("/Resources"))


def _path_operators(page: pikepdf.Page) -> int:
    """How many path segments the page draws (moveto, lineto, curveto)."""
    drawn = pikepdf.parse_content_stream(page)
    return sum(1 for step in drawn if str(step.operator) in ("m", "l", "c"))


def _alt_texts(doc: pikepdf.Pdf) -> list[str]:
    """The alternative texts of the structure tree's figures."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure" and "/Alt" in node:
                found.append(str(node.Alt))
            if "/K" in node:
                walk(node.K)

    walk(doc.Root.StructTreeRoot)
    return found
