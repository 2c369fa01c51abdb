"""The papers' core (commands/papers/document.py): a PDF a public body may file — A4,
the committee and period on every page, "Seite X von Y", tagged PDF/UA-1 with its
language and title, the shipped fonts, the same bytes for the same data and date; what a
member wrote stays text, and rendering asks nothing of the network."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import jinja2
import pikepdf
import pytest

from commands.papers import document
from commands.papers.document import Paper, css_string, render_html, render_pdf, svg_data_url
from commands.papers.fetch import TEMPLATES, allowed, font_folder
from tests.papers_support import font_names, open_pdf, pages, squeezed, words, write_artifacts

HOSTILE_TEXT = (
    "Räume <script>alert(1)</script> buchen </td></tr></table><b>fett</b> "
    "{{ 7 * 7 }} {% if true %}x{% endif %} <img src=http://127.0.0.1:{port}/spy.png>"
)
HOSTILE_ROOM = 'AG </style><style>body{display:none}</style> "Übergang" {{ room }}'
A4 = (595.0, 842.0)  # points, rounded


@dataclass(frozen=True)
class Listener:
    """A local TCP port that would see any request the renderer made."""

    sock: socket.socket

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield Listener(sock)
    sock.close()


def hostile_paper(port: int) -> Paper:
    room = HOSTILE_ROOM
    rows = [
        {
            "number": 7,
            "text": HOSTILE_TEXT.replace("{port}", str(port)),
            "owners": "Anna <i>Schmidt</i>",
            "due": "Fr., 6.3.",
            "state": "überfällig",
            "overdue": True,
        },
        {
            "number": 8,
            "text": "Fachtag vorbereiten",
            "owners": "Ben Okafor",
            "due": "ohne Frist",
            "state": "offen",
            "overdue": False,
        },
    ]
    return Paper(
        lang="de",
        title="Offene Verabredungen",
        header=f"{room} · Stand 9. März 2026",
        date=dt.date(2026, 3, 9),
        template="list.html",
        context={"room": room, "rows": rows, "overdue": 1, "more": 0},
    )


@pytest.fixture(scope="module")
def paper(listener: Listener) -> Paper:
    return hostile_paper(listener.port)


@pytest.fixture(scope="module")
def pdf(paper: Paper) -> bytes:
    data = render_pdf(paper)
    write_artifacts("papers-core-list", data)
    return data


def test_the_paper_is_one_a4_page_with_header_footer_and_table(pdf: bytes) -> None:
    [page] = pages(pdf)
    with open_pdf(pdf) as doc:
        box = [round(float(v)) for v in doc.pages[0].MediaBox]
    assert (box[2], box[3]) == A4
    assert "Stand: Mo., 9. März 2026 Seite 1 von 1" in page
    text = words(pdf)
    assert "Offene Verabredungen" in text
    assert "Fachtag vorbereiten" in text
    assert "Eine Verabredung ist überfällig (fett markiert)." in text


def test_the_pdf_is_tagged_pdf_ua_with_language_and_title(pdf: bytes) -> None:
    with open_pdf(pdf) as doc:
        assert "/StructTreeRoot" in doc.Root
        assert bool(doc.Root.MarkInfo.Marked)
        assert str(doc.Root.Lang) == "de"
        assert bool(doc.Root.ViewerPreferences.DisplayDocTitle)
        assert str(doc.docinfo.Title) == "Offene Verabredungen"
        assert str(doc.docinfo.CreationDate).startswith("D:20260309")
        meta = doc.open_metadata()
        assert meta["pdfuaid:part"] == "1"
        assert meta["dc:title"] == "Offene Verabredungen"
        # The table is a table to a screen reader: header cells and data cells.
        kinds = {str(e.get("/S")) for e in _struct_elements(doc.Root.StructTreeRoot)}
    assert {"/Table", "/TH", "/TD", "/H1"} <= kinds


def _struct_elements(node: object) -> Iterator[pikepdf.Dictionary]:
    """Every element of the structure tree below `node`."""
    if isinstance(node, pikepdf.Array):
        for item in node:
            yield from _struct_elements(item)
    elif isinstance(node, pikepdf.Dictionary):
        if "/S" in node:
            yield node
        if "/K" in node:
            yield from _struct_elements(node.K)


def test_two_builds_of_the_same_paper_are_the_same_bytes(paper: Paper, pdf: bytes) -> None:
    assert render_pdf(paper) == pdf


def test_what_members_wrote_is_printed_as_text_never_as_markup(
    pdf: bytes, listener: Listener
) -> None:
    text = squeezed(pdf)
    written = HOSTILE_TEXT.replace("{port}", str(listener.port))
    assert squeezed(written) in text
    assert "49" not in text.replace(str(listener.port), "")  # {{ 7 * 7 }} stayed text
    assert squeezed("Anna <i>Schmidt</i>") in text
    # The room's name heads the page as written (twice: the lead and the page header),
    # without ending the style sheet that places the header.
    assert text.count(squeezed(HOSTILE_ROOM)) == 2
    assert listener.connections() == 0


def test_the_text_is_set_in_the_shipped_fonts_not_the_systems(pdf: bytes) -> None:
    assert font_names(pdf) <= {"Gremienbot-Sans", "Gremienbot-Sans-Bold"}
    assert "Gremienbot-Sans" in font_names(pdf)
    assert (font_folder() / "DejaVuSans.ttf").is_file()


# What a template may ask for: a chart (an SVG as a data: URL) yes; anything from the
# network or from elsewhere on the disk, no.
EVIL_TEMPLATE = """{% extends "base.html" %}
{% block style %}
@import url("http://127.0.0.1:PORT/import.css");
@font-face { font-family: Spy; src: url("http://127.0.0.1:PORT/font.ttf"); }
body { background: url("http://127.0.0.1:PORT/bg.png"); }
{% endblock %}
{% block content %}
<link rel="stylesheet" href="http://127.0.0.1:PORT/style.css">
<p style="font-family: Spy">Bericht bleibt lesbar.</p>
<img alt="outside" src="http://127.0.0.1:PORT/pixel.png">
<img alt="a file elsewhere" src="file:///etc/hostname">
<figure>
<img alt="{{ chart_alt }}" src="{{ chart_src }}">
<figcaption>{{ chart_alt }}</figcaption>
</figure>
{% endblock %}
"""
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
    b'<rect x="10" y="20" width="40" height="70" fill="#345"/>'
    b'<image href="http://127.0.0.1:PORT/in-svg.png" width="10" height="10"/></svg>'
)


@pytest.fixture(scope="module")
def evil_pdf(listener: Listener) -> bytes:
    port = str(listener.port)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.DictLoader({"evil.html": EVIL_TEMPLATE.replace("PORT", port)}),
                jinja2.FileSystemLoader(TEMPLATES),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(document.environment().filters)
    paper = Paper(
        lang="en",
        title="Evaluation 2026",
        header="Steering group · 2026",
        date=dt.date(2026, 12, 31),
        template="evil.html",
        context={
            "chart_src": svg_data_url(SVG.replace(b"PORT", port.encode())),
            "chart_alt": "Bar chart: 3 of 5 took part",
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(document, "environment", lambda: env)
        data = render_pdf(paper)
    write_artifacts("papers-core-fetch", data)
    return data


def test_a_template_naming_the_network_makes_no_request_and_still_renders(
    evil_pdf: bytes, listener: Listener
) -> None:
    text = words(evil_pdf)
    assert "Bericht bleibt lesbar." in text
    assert "Page 1 of 1" in text
    assert listener.connections() == 0


def test_a_chart_is_drawn_as_a_vector_figure_with_its_alt_text(evil_pdf: bytes) -> None:
    with open_pdf(evil_pdf) as doc:
        figures = [
            e for e in _struct_elements(doc.Root.StructTreeRoot) if str(e.get("/S")) == "/Figure"
        ]
        alts = {str(f.get("/Alt")) for f in figures}
        # Vector: the chart's bar is a filled rectangle in the page's drawing, and there
        # is no raster image anywhere in the file.
        streams = [o for o in doc.objects if isinstance(o, pikepdf.Stream)]
        images = [o for o in streams if o.get("/Subtype") == "/Image"]
        drawing = doc.pages[0].Contents.read_bytes()
    assert "Bar chart: 3 of 5 took part" in alts
    assert images == []
    assert b"0.2 0.266667 0.333333 rg" in drawing
    assert b"10 20 40 70 re" in drawing


def test_the_fetcher_lets_through_only_the_projects_files_and_data_urls() -> None:
    assert allowed((TEMPLATES / "paper.css").as_uri())
    assert allowed((font_folder() / "DejaVuSans-Bold.ttf").as_uri())
    assert allowed("data:image/svg+xml;base64,PHN2Zy8+")
    assert not allowed("http://127.0.0.1:8008/_matrix/client/versions")
    assert not allowed("https://example.org/logo.png")
    assert not allowed("file:///etc/passwd")
    assert not allowed((TEMPLATES / ".." / "document.py").as_uri())
    assert not allowed((font_folder() / "cmr10.ttf").as_uri())
    assert not allowed("ftp://example.org/x")


def test_text_in_the_style_sheet_cannot_end_its_string_or_the_style_element() -> None:
    written = str(css_string('a"; } </style><script>x</script> \\ \n'))
    assert written.startswith('"')
    assert written.endswith('"')
    assert not any(c in written[1:-1] for c in '"<>;{}\n')


def test_the_html_has_the_language_and_the_title_the_paper_names(paper: Paper) -> None:
    html = render_html(paper)
    assert '<html lang="de">' in html
    assert "<title>Offene Verabredungen</title>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
