"""A paper: an accessible PDF made from an HTML template (the papers' core).

`Paper` says what to render; `render_pdf` makes the PDF: A4, the committee and period in
every page's header, "Seite X von Y" in the footer, tagged PDF/UA-1 with the document's
language and title, DejaVu fonts shipped with matplotlib, nothing loaded from outside
the project's own files (fetch.py), and the same bytes for the same paper.

Templates live in templates/, extend base.html and use paper.css. Jinja2 escapes every
value (autoescape is always on) and refuses an unknown name (StrictUndefined): what a
member wrote (an agreement's text, a room's name) is text in the PDF, never markup.
A template reads the catalogue with `t("papers.…")` (locales/*/papers.yaml and the
others), the paper as `paper`, and its `context` by name.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from commands.core import i18n
from commands.papers.fetch import FONT_FAMILY, TEMPLATES, font_faces, url_fetcher
from commands.parsing.dates import format_date

if TYPE_CHECKING:
    import jinja2

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


@dataclass(frozen=True)
class Paper:
    """What to render. `header` (committee and period) heads every page; `date` is the
    data's date: the PDF's creation date and part of what makes its bytes."""

    lang: str
    title: str
    header: str
    date: dt.date
    # A file under templates/ that extends base.html.
    template: str
    # The template's values by name: plain values, escaped when shown.
    context: Mapping[str, Any] = field(default_factory=dict)


def css_string(value: object) -> Markup:
    """A CSS string literal of any text, every character but ASCII letters and digits
    written as a hex escape: nothing in it can end the string or the <style> element.
    (Spaces too: CSS takes a space after an escape as the escape's end.)"""
    out = [
        char if char.isascii() and char.isalnum() else f"\\{ord(char):06x}" for char in str(value)
    ]
    return Markup('"' + "".join(out) + '"')


def page_content(lang: str) -> Markup:
    """ "Seite X von Y" as the CSS `content` of a margin box: the catalogue's words
    around the page counters."""
    words = i18n.raw(lang, "papers.page")
    parts: list[str] = []
    for i, piece in enumerate(words.split("{pages}")):
        if i:
            parts.append("counter(pages)")
        for j, bit in enumerate(piece.split("{page}")):
            if j:
                parts.append("counter(page)")
            if bit:
                parts.append(css_string(bit))
    return Markup(" ".join(parts))


def svg_data_url(svg: bytes) -> str:
    """An SVG (a chart) as the `src` of an <img>: a `data:` URL, which the fetcher allows."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@cache
def environment() -> jinja2.Environment:
    """The templates' environment, made once per process."""
    # Lazy: Jinja2 is needed only where a paper is rendered (a file job's process, the
    # command line), not by the running bot, whose memory at start is budgeted.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # Always: every value is escaped, whatever the template's name.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    return env


def render_html(paper: Paper) -> str:
    """The paper's HTML (what render_pdf lays out); tests read it too."""
    lang = paper.lang

    def t(key: str, **values: object) -> str:
        return i18n.plain(lang, key, **values)

    template = environment().get_template(paper.template)
    return template.render(
        {
            **paper.context,
            "paper": paper,
            "t": t,
            "date_text": format_date(paper.date, lang),
            "fonts": font_faces(),
            "font_family": FONT_FAMILY,
            "page_content": page_content(lang),
        }
    )


def render_pdf(paper: Paper) -> bytes:
    """The PDF: tagged PDF/UA-1, its bytes a function of the paper alone."""
    html = render_html(paper)
    # Lazy: WeasyPrint, Pango and fontconfig cost tens of MB; only the file job's process
    # that renders a paper (or the command line) loads them, never the running bot.
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    document = HTML(
        string=html,
        base_url=TEMPLATES.as_uri() + "/",
        url_fetcher=url_fetcher(),
    )
    with _font_timestamps(paper.date):
        pdf = document.write_pdf(
            pdf_variant="pdf/ua-1",
            # The file's /ID from its content (the HTML holds the data and the date), not
            # from chance: two builds of the same paper are the same bytes.
            pdf_identifier=hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii"),
            font_config=FontConfiguration(),
        )
    assert isinstance(pdf, bytes)
    return pdf


@contextlib.contextmanager
def _font_timestamps(day: dt.date) -> Iterator[None]:
    """The embedded fonts dated `day`, not the moment of rendering.

    Without HarfBuzz's subsetter WeasyPrint subsets the fonts with fontTools, which
    stamps each subset's `head` table with the current second, unless SOURCE_DATE_EPOCH
    (reproducible builds) says otherwise. A paper renders in a process of its own (a
    file job) or the command line's, so setting it for the while is seen by no one else.
    """
    moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    before = os.environ.get(SOURCE_DATE_EPOCH)
    os.environ[SOURCE_DATE_EPOCH] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if before is None:
            del os.environ[SOURCE_DATE_EPOCH]
        else:
            os.environ[SOURCE_DATE_EPOCH] = before
