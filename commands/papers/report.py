"""`!bericht pdf [zeitraum]` and `gremienbot report --kind bericht`: the leadership's
Beschlusskontrolle as a PDF to file. The same report as `!bericht`: the same facts
(commands.desk.facts.gather, from the read model storage.figures), each line and cell in
the same words (commands.desk.sections, control, texts); only complete, where the chat
shortens a long one. Offices, never people: no member's name or user ID.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.defaults import Defaults
from commands.core.file_jobs import CONFIG_PARAM
from commands.core.registry import Router
from commands.desk import control
from commands.desk.facts import Committee, ReportInput, gather
from commands.desk.report import REPORT_PDF_JOB, report_input
from commands.desk.sections import agreement_lines, committee_extras, meetings_line
from commands.desk.texts import overlap_lines
from commands.papers.document import Paper, render_pdf
from commands.parsing.dates import format_date
from commands.parsing.periods import period_label
from storage.figures.agreements import State
from storage.figures.period import Period, PeriodKind

router = Router()

# The table's columns, by their catalogue keys (desk.paper.column.*), as the committee
# paper has them.
COLUMNS = ("number", "text", "office", "due", "state", "reason")


def _cells(lang: str, row: control.Row) -> dict[str, Any]:
    return {
        "number": row.number,
        "text": " ".join(row.text.split()),
        "office": control.office_cell(lang, row),
        "due": control.due_cell(lang, row),
        "state": control.state_cell(lang, row),
        "reason": control.reason_cell(lang, row) or "",
        "overdue": row.state is State.OVERDUE,
    }


def _committee(lang: str, c: Committee) -> dict[str, Any]:
    return {
        "name": c.name,
        "figures": [line.plain for line in agreement_lines(lang, c.figures)],
        "due_title": i18n.plain(lang, "desk.report.due_title", count=len(c.due)),
        "due": [_cells(lang, r) for r in c.due],
        "done_title": i18n.plain(lang, "desk.report.done_title", count=len(c.done)),
        "done": [_cells(lang, r) for r in c.done],
        "extras": [line.plain for line in committee_extras(lang, c)],
    }


def paper_of(inp: ReportInput, only: str | None = None) -> Paper:
    """The report of `inp` as a paper; `only`: the one committee it is about (a chair's)."""
    lang = inp.lang
    facts = gather(inp)
    label = period_label(lang, inp.period)
    today = inp.now.date()
    if only is not None and only in inp.labels:
        header = i18n.plain(lang, "papers.report.header", committee=inp.labels[only], period=label)
    else:
        header = i18n.plain(
            lang, "papers.report.header_all", committees=len(facts.committees), period=label
        )
    overlaps = [line.plain for line in overlap_lines(lang, facts.overlaps, inp.labels)]
    return Paper(
        lang=lang,
        title=i18n.plain(lang, "desk.report.title", period=label),
        header=header,
        date=today,
        template="report.html",
        context={
            "intro": i18n.plain(
                lang,
                "desk.report.intro",
                date=format_date(today, lang),
                committees=len(facts.committees),
            ),
            "all_title": i18n.plain(lang, "desk.report.all"),
            "total": [
                *(line.plain for line in agreement_lines(lang, facts.total)),
                meetings_line(lang, facts.meetings).plain,
            ],
            "committees": [_committee(lang, c) for c in facts.committees],
            "columns": [(c, i18n.plain(lang, f"desk.paper.column.{c}")) for c in COLUMNS],
            "overlaps_title": overlaps[0],
            "overlaps": overlaps[1:],
        },
    )


def report_paper(
    db: Session,
    room_id: str | None,
    period: Period,
    lang: str,
    *,
    defaults: Defaults,
    now: dt.datetime,
) -> Paper:
    """The report for the command line: every committee, or `room_id`'s alone."""
    local = now.astimezone(defaults.zone)
    return paper_of(report_input(db, lang, period, local, defaults, room_id), room_id)


@router.file_job(REPORT_PDF_JOB)
def make_report_pdf(db: Session, params: Mapping[str, Any]) -> bytes:
    """The PDF of one `!bericht pdf`, for the committees the command chose."""
    rooms: Mapping[str, Sequence[str]] = params["rooms"]
    period = Period(
        dt.date.fromisoformat(params["first"]),
        dt.date.fromisoformat(params["last"]),
        PeriodKind(params["kind"]),
    )
    offices = dict(params.get(CONFIG_PARAM, {}).get("offices", {}))
    inp = ReportInput(
        db=db,
        lang=params["lang"],
        period=period,
        now=dt.datetime.fromisoformat(params["now"]),
        defaults=Defaults(timezone=params["tz"]),
        labels={r: name for r, (name, _zone) in rooms.items()},
        zones={r: ZoneInfo(zone) for r, (_name, zone) in rooms.items()},
        offices=offices,
    )
    return render_pdf(paper_of(inp, params["only"]))
