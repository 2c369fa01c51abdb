"""`!auswertung pdf [alle] [zeitraum]` / `!evaluation pdf`: the committee's evaluation as
a PDF to file, with what the chat's report shows (commands.evaluation.room_report, read
by its `load`): participation, each statement's mean, answers, agreement rate and
distribution beside the year before, the free texts, the measures, the pulses by month,
the agreements' figures and the chart as vector graphics. With no room: the table of all
committees (`!auswertung alle`, commands.evaluation.overview).

It names no member and keeps the chat's limits, since it reads the same read model: a
statement or pulse below MIN_ANSWERS shows only its count, free texts only from
MIN_ANSWERS of them on, and of a survey still running only its participation. The free
texts stand in alphabetical order where the chat shuffles them: the order of answering
cannot show through either way, and the same data makes the same bytes.

The command (commands.evaluation.commands) checks who asks and for what; the PDF is made
here, off the database thread.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.agreements.common import short_due
from commands.core import i18n
from commands.core.defaults import Defaults
from commands.core.errors import CommandError
from commands.core.registry import Router
from commands.core.rich import Rich
from commands.core.room import room_timezone
from commands.core.room_names import room_label
from commands.evaluation import chart
from commands.evaluation.commands import EVALUATION_PDF_JOB
from commands.evaluation.figures import (
    decimal_text,
    month_name,
    percent_text,
    rating_text,
    trend,
)
from commands.evaluation.overview import committee_rows
from commands.evaluation.room_report import (
    RoomPeriod,
    SurveyYear,
    agreement_lines,
    chart_data,
    load,
    participation_line,
)
from commands.papers.document import Paper, render_pdf, svg_data_url
from commands.parsing.dates import format_date, format_datetime
from commands.parsing.periods import period_label
from storage.figures.agreements import State, state_of
from storage.figures.period import Period, PeriodKind
from storage.figures.votes import MIN_ANSWERS
from storage.models import Agreement

router = Router()

_K = "papers_reports.evaluation."
_R = "evaluation_report."
# A statement in the chart's alternative text is shortened to this many characters.
_ALT_LABEL = 60


def evaluation_paper(
    db: Session,
    room_id: str | None,
    period: Period,
    lang: str,
    *,
    defaults: Defaults,
    now: dt.datetime,
) -> Paper:
    """The evaluation of `room_id` for `period` (None: the table of all committees), in
    `lang`, as of `now`; a CommandError when there is no committee to show."""
    if room_id is None:
        return _all_committees(db, period, lang, defaults.zone, now)
    tz = room_timezone(db, room_id, defaults.timezone)
    return _room_paper(db, room_id, period, lang, tz, now)


@router.file_job(EVALUATION_PDF_JOB)
def make_evaluation_pdf(db: Session, params: Mapping[str, Any]) -> bytes:
    """The PDF of one `!auswertung pdf`, from what the command checked."""
    period = Period(
        dt.date.fromisoformat(params["first"]),
        dt.date.fromisoformat(params["last"]),
        PeriodKind(params["kind"]),
    )
    paper = evaluation_paper(
        db,
        params["room"],
        period,
        params["lang"],
        defaults=Defaults(timezone=params["default_tz"]),
        now=dt.datetime.fromisoformat(params["now"]),
    )
    return render_pdf(paper)


# ------------------------------------------------------------------------------ one room


def _room_paper(
    db: Session, room_id: str, period: Period, lang: str, tz: ZoneInfo, now: dt.datetime
) -> Paper:
    data = load(db, room_id, tz, now, period)
    room = room_label(db, room_id, lang)
    name = period_label(lang, period)
    today = now.astimezone(tz).date()
    return Paper(
        lang=lang,
        title=i18n.plain(lang, _K + "title", period=name),
        header=i18n.plain(lang, _K + "header", room=room, period=name),
        date=today,
        template="evaluation.html",
        context={
            "lead": i18n.plain(lang, _K + "lead", room=room, date=format_date(today, lang)),
            "survey_title": i18n.plain(lang, _R + "survey_title", year=data.year),
            "survey_year": (
                None
                if period.kind is PeriodKind.YEAR
                else i18n.plain(lang, _K + "survey_year", year=data.year)
            ),
            "survey": _survey(data, lang, tz),
            "measures": _measures(data, lang, tz, now),
            "pulses": _pulses(data, lang),
            "agreements": _items(agreement_lines(data, lang)),
            "chart": _chart(data, lang, room, name),
            "privacy": i18n.plain(lang, _K + "privacy", min=MIN_ANSWERS),
            "all_committees": None,
        },
    )


def _survey(data: RoomPeriod, lang: str, tz: ZoneInfo) -> dict[str, Any]:
    """What the chat's survey section says, as the template's values."""
    current, previous = data.survey, data.previous_survey
    shown: dict[str, Any] = {
        "none": None,
        "running": None,
        "participation": None,
        "legend": None,
        "statements": [],
        "statements_none": None,
        "free": None,
    }
    if current is None:
        shown["none"] = i18n.plain(lang, _R + "survey_none", year=data.year)
        return shown
    shown["participation"] = participation_line(current, previous, lang).plain
    if current.running:
        # Only the participation (room_report: `load` read nothing else of it).
        until = format_datetime(current.survey.closes_at.astimezone(tz), lang)
        shown["running"] = i18n.plain(lang, _K + "running", until=until)
        return shown
    if any(s.distribution.shown for s in current.statements):
        shown["legend"] = i18n.plain(lang, _R + "agreement_legend")
    shown["statements"] = _statements(current, previous, lang)
    if not current.statements:
        shown["statements_none"] = i18n.plain(lang, _R + "statements_none")
    shown["statements_caption"] = i18n.plain(lang, _K + "statements_caption", year=data.year)
    shown["free"] = _free_texts(current, data.comments, lang)
    return shown


def _statements(
    current: SurveyYear, previous: SurveyYear | None, lang: str
) -> list[dict[str, Any]]:
    before = {s.text: s.distribution for s in previous.statements} if previous else {}
    none = i18n.plain(lang, _R + "none")
    rows: list[dict[str, Any]] = []
    for number, statement in enumerate(current.statements, 1):
        d = statement.distribution
        row: dict[str, Any] = {"number": number, "text": statement.text, "shown": d.shown}
        if not d.shown:
            # Its count alone, as in the chat: not even how many could not judge it.
            row["too_few"] = i18n.plain(lang, _K + "too_few", answers=d.answers, min=MIN_ANSWERS)
            rows.append(row)
            continue
        last = before.get(statement.text)
        row |= {
            "mean": decimal_text(d.mean, lang),
            "answers": d.answers,
            "agree": percent_text(d.agreement_rate, lang),
            "distribution": " · ".join(str(n) for n in d.counts),
            "not_judged": (
                i18n.plain(lang, _R + "not_judged", count=d.not_judged) if d.not_judged else None
            ),
            "previous": rating_text(last, lang) if last is not None and last.shown else none,
        }
        rows.append(row)
    return rows


def _free_texts(current: SurveyYear, comments: Sequence[str], lang: str) -> dict[str, Any] | None:
    if not comments:
        return None
    question = current.survey.free_question
    title = (
        i18n.plain(lang, _R + "free_title", question=question)
        if question
        else i18n.plain(lang, _R + "free_title_plain")
    )
    if len(comments) < MIN_ANSWERS:
        count = len(comments)
        return {
            "title": title,
            "too_few": i18n.plain(lang, _K + "free_too_few", count=count, min=MIN_ANSWERS),
            "answers": [],
            "order": None,
        }
    return {
        "title": title,
        "too_few": None,
        # Alphabetical: neither the order of answering nor chance (the same bytes).
        "answers": sorted(comments, key=lambda c: (c.casefold(), c)),
        "order": i18n.plain(lang, _K + "free_order"),
    }


def _measures(data: RoomPeriod, lang: str, tz: ZoneInfo, now: dt.datetime) -> list[dict[str, Any]]:
    """The measures of the year before and of this year, in the chat's words (no owners)."""
    groups: list[dict[str, Any]] = []
    for year in (data.year - 1, data.year):
        taken = [a for a in data.measures if a.measure_year == year]
        if taken:
            groups.append(
                {
                    "title": i18n.plain(lang, _R + "measures_title", year=year),
                    "entries": [_measure(a, lang, tz, now) for a in taken],
                    "none": None,
                }
            )
    if data.takes_measures and not any(a.measure_year == data.year for a in data.measures):
        groups.append(
            {
                "title": i18n.plain(lang, _R + "measures_title", year=data.year),
                "entries": [],
                "none": i18n.plain(lang, _K + "measures_none_yet", year=data.year),
            }
        )
    return groups


def _measure(a: Agreement, lang: str, tz: ZoneInfo, now: dt.datetime) -> str:
    """ "#12 Sitzungen auf 90 Minuten begrenzen – überfällig, Frist: Di., 31.3." as the
    chat's line (commands.evaluation.measures), without its bullet."""
    local = now.astimezone(tz)
    state = state_of(a, local)
    values: dict[str, object] = {
        "number": f"#{a.number}",
        "text": " ".join(a.text.split()),
        "due": i18n.plain(lang, "agreement.due_none"),
    }
    if a.due_date is not None:
        values["due"] = short_due(lang, local.date(), a.due_date, a.due_time)
    if state is State.DONE and a.closed_at is not None:
        values["date"] = format_date(a.closed_at.astimezone(tz).date(), lang)
    return _item(i18n.t(lang, _R + "measure." + state.value, **values))


def _pulses(data: RoomPeriod, lang: str) -> dict[str, Any]:
    """The pulse trend by month and its totals, as the chat's pulse section."""
    several_years = data.period.first.year != data.period.last.year
    months = [
        {
            "month": month_name(m.month, lang) + (f" {m.year}" if several_years else ""),
            "mean": i18n.decimal(m.mean, lang),
            "pulses": m.pulses,
        }
        for m in trend(data.pulses)
    ]
    total = data.pulse_totals
    notes: list[str] = []
    if not months:
        notes.append(i18n.plain(lang, _R + "pulses_none", min=MIN_ANSWERS))
    if total.counted > 1 and total.mean is not None:
        key = "pulses_year" if data.period.kind is PeriodKind.YEAR else "pulses_period"
        notes.append(
            i18n.plain(lang, _R + key, mean=i18n.decimal(total.mean, lang), pulses=total.counted)
        )
    if total.left_out:
        notes.append(
            i18n.plain(lang, _R + "pulses_left_out", count=total.left_out, min=MIN_ANSWERS)
        )
    return {
        "title": i18n.plain(
            lang, _R + "pulses_title", period=period_label(lang, data.period), min=MIN_ANSWERS
        ),
        "caption": i18n.plain(lang, _K + "months_caption"),
        "months": months,
        "notes": notes,
    }


def _chart(data: RoomPeriod, lang: str, room: str, period: str) -> dict[str, str] | None:
    """The chat's chart as SVG, with what it shows in words; None with nothing to draw."""
    drawing = chart_data(data)
    if not (drawing.statements or drawing.left_out or drawing.months):
        return None
    return {
        "src": svg_data_url(chart.svg(drawing, lang)),
        "alt": _alt(drawing, lang),
        "caption": i18n.plain(lang, _R + "chart_caption", period=period, room=room),
    }


def _alt(drawing: chart.ChartData, lang: str) -> str:
    """The chart in words: each bar's statement and mean, each month's mean."""

    statements = "; ".join(
        i18n.plain(
            lang,
            _K + "chart_alt_item",
            label=textwrap.shorten(text, _ALT_LABEL, placeholder=" …"),
            mean=i18n.decimal(mean, lang),
        )
        for text, mean in drawing.statements
    ) or i18n.plain(lang, _K + "chart_alt_statements_none", min=MIN_ANSWERS)
    if drawing.left_out:
        statements += i18n.plain(
            lang, _K + "chart_alt_left_out", count=drawing.left_out, min=MIN_ANSWERS
        )
    several_years = len({y for y, _ in drawing.axis}) > 1
    months = "; ".join(
        i18n.plain(
            lang,
            _K + "chart_alt_month",
            month=month_name(m.month, lang) + (f" {m.year}" if several_years else ""),
            mean=i18n.decimal(m.mean, lang),
        )
        for m in drawing.months
    ) or i18n.plain(lang, _K + "chart_alt_months_none", min=MIN_ANSWERS)
    return i18n.plain(lang, _K + "chart_alt", statements=statements, months=months)


def _items(lines: Sequence[Rich]) -> dict[str, Any]:
    """A chat section (its bold title, then lines) as a heading and its lines."""
    title, *rest = lines
    return {"title": title.plain, "lines": [_item(line) for line in rest]}


def _item(line: Rich) -> str:
    """A chat line as the PDF's list shows it: without its bullet."""
    return line.plain.removeprefix("• ")


# ---------------------------------------------------------------------- all committees


def _all_committees(
    db: Session, period: Period, lang: str, zone: ZoneInfo, now: dt.datetime
) -> Paper:
    rows = committee_rows(db, zone, lang, now, period)
    if not rows:
        raise CommandError(_R + "all_none")
    name = period_label(lang, period)
    today = now.astimezone(zone).date()
    return Paper(
        lang=lang,
        title=i18n.plain(lang, _K + "all_title", period=name),
        header=i18n.plain(lang, _K + "all_header", period=name),
        date=today,
        template="evaluation.html",
        context={
            "lead": i18n.plain(
                lang,
                _K + "all_lead",
                count=len(rows),
                year=period.last.year,
                date=format_date(today, lang),
            ),
            "all_committees": {
                "legend": i18n.plain(lang, _R + "all_legend", min=MIN_ANSWERS),
                "rows": [
                    {
                        "room": r.room,
                        "participation": r.participation,
                        "statements": r.statements,
                        "pulses": r.pulses,
                        "agreements": f"{r.recorded}; {r.punctuality}",
                    }
                    for r in rows
                ],
            },
            "privacy": i18n.plain(lang, _K + "privacy", min=MIN_ANSWERS),
        },
    )
