"""`!bericht vorlage [zeitraum]`: the report as a text to paste into a committee paper, a
status report (Sachstandsbericht) the committee takes note of: a heading, one paragraph
per committee with its figures in sentences, its Beschlusskontrolle as a table, and the
closing formula. The figures are the report's, in the report's words (sections.py).

The table is a Markdown table in the plain text and an HTML table in the formatted one,
which a word processor keeps as a table when it is copied from the chat.
"""

from __future__ import annotations

import html

from commands.core import i18n
from commands.core.rich import Rich, bold
from commands.desk import control
from commands.desk.facts import Committee, ReportInput, gather
from commands.desk.sections import agreement_lines, committee_extras, fitting, meetings_line
from commands.parsing.dates import format_date
from commands.parsing.periods import period_label

# The table's columns, by their catalogue keys (desk.paper.column.*).
COLUMNS = ("number", "text", "office", "due", "state", "reason")


def sentence(part: Rich) -> Rich:
    """A line of the report as a sentence: its first letter capital, a full stop after."""
    plain, markup = part.plain, part.html
    if plain and markup.startswith(plain[0]):
        plain, markup = plain[0].upper() + plain[1:], plain[0].upper() + markup[1:]
    return Rich(plain, markup, part.mentions) + "."


def paragraph(lang: str, parts: list[Rich]) -> Rich:
    return Rich.join([sentence(p) for p in parts], " ")


def _cells(lang: str, row: control.Row) -> list[str]:
    return [
        str(row.number),
        " ".join(row.text.split()),
        control.office_cell(lang, row),
        control.due_cell(lang, row),
        control.state_cell(lang, row),
        control.reason_cell(lang, row) or "",
    ]


def _markdown_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def table(lang: str, rows: list[control.Row]) -> Rich:
    """The rows as a Markdown table (plain) and an HTML table (formatted)."""
    head = [i18n.plain(lang, f"desk.paper.column.{c}") for c in COLUMNS]
    body = [_cells(lang, r) for r in rows]
    plain = [
        "| " + " | ".join(_markdown_cell(c) for c in head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
        *("| " + " | ".join(_markdown_cell(c) for c in cells) + " |" for cells in body),
    ]
    markup = (
        "<table><thead><tr>"
        + "".join(f"<th>{html.escape(c)}</th>" for c in head)
        + "</tr></thead><tbody>"
        + "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
            for cells in body
        )
        + "</tbody></table>"
    )
    return Rich("\n".join(plain), markup)


def _committee(inp: ReportInput, c: Committee, shown: int | None) -> list[Rich]:
    lang = inp.lang
    found = [
        bold(c.name),
        paragraph(lang, [*agreement_lines(lang, c.figures), *committee_extras(lang, c)]),
    ]
    items = [*c.due, *c.done]
    if not items:
        found.append(i18n.t(lang, "desk.paper.no_items"))
        return found
    cut = items if shown is None else items[:shown]
    # A blank line before it: Markdown reads a table only as a paragraph of its own.
    found.extend([Rich("", ""), table(lang, cut)])
    if len(items) > len(cut):
        found.append(i18n.t(lang, "desk.report.more", count=len(items) - len(cut)))
    return found


def render_paper(
    inp: ReportInput, committees: list[Committee], total: Rich, shown: int | None
) -> Rich:
    lang = inp.lang
    lines: list[Rich] = [
        bold(i18n.plain(lang, "desk.paper.title", period=period_label(lang, inp.period))),
        Rich("", ""),
        i18n.t(lang, "desk.paper.intro", date=format_date(inp.now.date(), lang)),
        Rich("", ""),
        total,
    ]
    for c in committees:
        lines.append(Rich("", ""))
        lines.extend(_committee(inp, c, shown))
    if shown is not None:
        lines.extend([Rich("", ""), i18n.t(lang, "desk.report.shortened", shown=shown)])
    lines.extend([Rich("", ""), i18n.t(lang, "desk.paper.closing")])
    return Rich.join(lines)


def build_paper(inp: ReportInput) -> Rich:
    lang = inp.lang
    facts = gather(inp)
    total = i18n.t(
        lang,
        "desk.paper.all",
        committees=len(facts.committees),
        figures=paragraph(
            lang, [*agreement_lines(lang, facts.total), meetings_line(lang, facts.meetings)]
        ),
    )
    return fitting(lambda shown: render_paper(inp, facts.committees, total, shown))
