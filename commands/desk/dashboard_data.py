"""What the coordination's dashboard shows (bot/dashboard serves it as JSON), and which
file a download button orders: the same facts as the leadership report, in the same
words, for the committees the person may see.

Every figure is the read model's (storage/figures), gathered as `!bericht` gathers it
(commands.desk.facts.gather): per committee open and overdue now, the period's due
cohort and its punctuality, the report's lines (commands.core.figure_lines), the
Beschlusskontrolle's overdue rows with office, due date and reason (commands.desk.control),
the possible duplicate work the report lists; beside them the curve of what stood open and
overdue at each month's end (storage.figures.standing), the pulses by month and the year's
evaluation (storage.figures.votes: nothing with fewer than MIN_ANSWERS answers), the next
planned meetings and the running circulations. Offices, never people: nothing here names
a member (the agreements' texts are the committee's own).

Who sees what is what the same person sees with commands: the coordination every
committee (as `!bericht`), a chair their own committees (as a chair's `!bericht`). The
downloads are the chat's files: `!export` (the coordination's) and `!bericht pdf`
(a chair's of their committee), made by the same file jobs.

Plain values only (str, int, float, None, lists, dicts): the server sends them as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Role
from commands.core.defaults import Defaults
from commands.core.figure_lines import percent
from commands.core.file_jobs import FileJob
from commands.core.room import room_timezone
from commands.desk.control import Row, due_cell, office_cell, reason_cell
from commands.desk.facts import Committee, Facts, ReportInput, gather
from commands.desk.report import report_input, report_pdf
from commands.desk.sections import agreement_lines
from commands.desk.texts import OVERLAPS_SHOWN
from commands.evaluation.commands import evaluation_file
from commands.evaluation.figures import decimal_text, percent_text, survey_running, trend
from commands.exports.chat import EXPORT_JOB, job_params
from commands.exports.run import FORMATS, filename, make_scope
from commands.meetings.calendar import upcoming_of
from commands.parsing.dates import format_datetime
from commands.parsing.periods import PeriodError, parse_past_period, parse_period, period_label
from storage import decisions, evaluation, meetings, rooms
from storage.figures.agreements import AgreementFigures, State
from storage.figures.period import Period, days, previous_month, year
from storage.figures.standing import last_months, standing
from storage.figures.votes import MIN_ANSWERS, Distribution, pooled, pulses, response_rate

# The months the curves (committees' standing, pulses) look back over, this one included.
MONTHS_SHOWN = 12
# The files a download button orders besides the export formats: `!bericht pdf` and
# `!auswertung pdf`.
PDF_REPORT = "pdf-report"
PDF_EVALUATION = "pdf-evaluation"
PAPERS = (PDF_REPORT, PDF_EVALUATION)
# The widget's own words (commands/locales/*/dashboard_widget.yaml), sent as `labels`.
WIDGET_LABELS = "dashboard_widget."


@dataclass(frozen=True)
class Viewer:
    """Who looks, and at which committees: the coordination at every one (`rooms` None),
    a chair at the rooms they chair."""

    user_id: str
    role: Role
    rooms: frozenset[str] | None = None

    @property
    def role_name(self) -> str:
        return "coordination" if self.role >= Role.COORDINATION else "chair"


class Refused(Exception):
    """A request the dashboard cannot answer as asked: `status` is the HTTP status, `reason`
    a short word for the logs and the JSON body (the widget shows neither)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class FileOrder:
    """A download: the file's name and type, and the file job that makes it."""

    filename: str
    mimetype: str
    job: FileJob


def language(asked: str | None, defaults: Defaults) -> str:
    """The language asked for (the client's: "de", "en-GB" …), else the configured one."""
    short = (asked or "")[:2].lower()
    return next((lang for lang in i18n.LANGUAGES if lang == short), defaults.language)


def labels(lang: str) -> dict[str, str]:
    """Every word of the widget in `lang`, by its key without the prefix; raw templates
    whose {placeholders} the widget fills in as text."""
    keys = [k for k in i18n.catalogue(i18n.FALLBACK_LANGUAGE) if k.startswith(WIDGET_LABELS)]
    return {k.removeprefix(WIDGET_LABELS): i18n.raw(lang, k) for k in keys}


# ------------------------------------------------------------------------------ overview


def report_for(
    db: Session, viewer: Viewer, lang: str, period: Period, now: dt.datetime, defaults: Defaults
) -> ReportInput:
    """What `!bericht` reads for this period, narrowed to the committees the viewer sees:
    every committee room but the report's own (commands.desk.report.committees)."""
    inp = report_input(db, lang, period, now.astimezone(defaults.zone), defaults)
    if viewer.rooms is None:
        return inp
    seen = viewer.rooms
    return dataclasses.replace(
        inp,
        labels={r: name for r, name in inp.labels.items() if r in seen},
        zones={r: z for r, z in inp.zones.items() if r in seen},
    )


def overview_period(text: str | None, today: dt.date) -> Period:
    """The period the figures count: the one named in the period language of `!bericht`,
    else this year so far (a year whose due dates still to come count once passed)."""
    if not text or not text.strip():
        return year(today.year)
    try:
        return parse_past_period(text, today)
    except PeriodError:
        raise Refused(400, "period") from None


def overview(
    db: Session,
    viewer: Viewer,
    *,
    lang: str,
    now: dt.datetime,
    defaults: Defaults,
    period_text: str | None = None,
) -> dict[str, Any]:
    """Everything the dashboard shows, for the viewer's committees, in `lang`."""
    local = now.astimezone(defaults.zone)
    period = overview_period(period_text, local.date())
    inp = report_for(db, viewer, lang, period, now, defaults)
    facts = gather(inp)
    months = last_months(local.date(), MONTHS_SHOWN)
    stood = standing(db, inp.zones, months, now)
    recent = days(dt.date(months[0][0], months[0][1], 1), local.date())
    asked = pulses(db, recent, inp.zones)
    return {
        "lang": lang,
        "user": {"user_id": viewer.user_id, "role": viewer.role_name},
        "generated": local.isoformat(timespec="seconds"),
        "generated_text": format_datetime(local, lang),
        "period": {
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "label": period_label(lang, period),
        },
        "labels": labels(lang),
        "totals": _figures(lang, facts.total),
        "committees": [
            {
                "room_id": c.room_id,
                "name": c.name,
                **_figures(lang, c.figures),
                "spark": [
                    {"month": f"{y}-{m:02d}", "open": s.open, "overdue": s.overdue}
                    for (y, m), s in zip(months, stood[c.room_id], strict=True)
                ],
                "meetings_held": c.meetings,
                "pulse": _pulse(lang, c),
                "evaluation": _participation(lang, c),
            }
            for c in facts.committees
        ],
        "overdue": _overdue(lang, facts),
        "overlaps": _overlaps(facts, inp.labels),
        "overlaps_more": max(0, len(facts.overlaps) - OVERLAPS_SHOWN),
        "pulses": [
            {
                "month": f"{m.year}-{m.month:02d}",
                "mean": _rounded(m.mean),
                "mean_text": decimal_text(m.mean, lang),
                "answers": m.distribution.answers,
                "pulses": m.pulses,
            }
            for m in trend(asked)
        ],
        "evaluation": _evaluation(db, lang, inp.labels, period.last.year),
        "meetings": _meetings(db, lang, inp, now),
        "circulations": _circulations(db, lang, inp),
        "exports": exports(lang, viewer),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _figures(lang: str, f: AgreementFigures) -> dict[str, Any]:
    """One committee's (or all together) figures: open and overdue now, the period's due
    cohort, and the report's lines."""
    return {
        "open": f.open_now,
        "overdue": f.overdue_now,
        "due": f.due.total,
        "done_on_time": f.due.on_time,
        "punctuality": _rounded(f.due.on_time_rate),
        "punctuality_text": percent_text(f.due.on_time_rate, lang),
        "recorded": f.recorded.total,
        "done": f.done,
        "lines": [line.plain for line in agreement_lines(lang, f)],
    }


def _pulse(lang: str, c: Committee) -> dict[str, Any] | None:
    """The period's pulses pooled, as the report says them; None where none counted."""
    if c.pulse is None:
        return None
    return {
        "mean": _rounded(c.pulse.mean),
        "mean_text": decimal_text(c.pulse.mean, lang),
        "pulses": c.pulse.counted,
        "previous": _rounded(c.pulse.previous),
    }


def _participation(lang: str, c: Committee) -> dict[str, Any] | None:
    p = c.participation
    if p is None:
        return None
    rate = response_rate(p.participated, p.invited)
    return {
        "year": p.year,
        "participated": p.participated,
        "invited": p.invited,
        "response_rate": _rounded(rate),
        "response_rate_text": percent_text(rate, lang),
    }


def _row(lang: str, c: Committee, r: Row) -> dict[str, Any]:
    return {
        "room_id": c.room_id,
        "committee": c.name,
        "number": r.number,
        "text": " ".join(r.text.split()),
        "who": office_cell(lang, r),
        "due": r.due.isoformat() if r.due is not None else None,
        "due_text": due_cell(lang, r),
        "reason": reason_cell(lang, r),
        "reason_given": bool(r.reason),
    }


def _overdue(lang: str, facts: Facts) -> list[dict[str, Any]]:
    """The Beschlusskontrolle's overdue rows of every committee, the longest overdue first."""
    found = [(r, c) for c in facts.committees for r in c.due if r.state is State.OVERDUE]
    found.sort(key=lambda rc: (rc[0].due or dt.date.max, rc[1].name.casefold(), rc[0].number))
    return [_row(lang, c, r) for r, c in found]


def _overlaps(facts: Facts, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The report's possible duplicate work, as many pairs as it shows."""
    found: list[dict[str, Any]] = []
    for o in facts.overlaps[:OVERLAPS_SHOWN]:
        items = (o.first, o.second)
        found.append(
            {
                "score": round(o.score),
                "room_ids": [i.room_id for i in items],
                "committees": [names.get(i.room_id, i.room_id) for i in items],
                "numbers": [i.number for i in items],
                "texts": [" ".join(i.text.split()) for i in items],
            }
        )
    return found


def _evaluation(
    db: Session, lang: str, names: Mapping[str, str], last_year: int
) -> dict[str, Any] | None:
    """The latest year's evaluation across the committees (that year, else the year
    before): each statement's answers pooled over the ended surveys (pooled: only those
    with MIN_ANSWERS answers count), the response rate of those where at least that many
    took part. None without anything to show."""
    for y in (last_year, last_year - 1):
        found = _evaluation_of(db, lang, names, y)
        if found is not None:
            return found
    return None


def _evaluation_of(
    db: Session, lang: str, names: Mapping[str, str], year_: int
) -> dict[str, Any] | None:
    surveys = evaluation.surveys_by_room(db, year_, list(names))
    if not surveys:
        return None
    ids = [s.id for s in surveys.values() if s.id is not None]
    counted = evaluation.participants(db, ids)
    taking_part = [
        (counted.get(s.id, 0), s.invited)
        for s in surveys.values()
        if s.id is not None and s.invited and counted.get(s.id, 0) >= MIN_ANSWERS
    ]
    participated = sum(n for n, _ in taking_part)
    invited = sum(i for _, i in taking_part)
    ended = [s.id for s in surveys.values() if s.id is not None and not survey_running(s)]
    by_text: dict[str, list[Distribution]] = {}
    for listed in evaluation.statements(db, ended).values():
        for st in listed:
            by_text.setdefault(" ".join(st.text.split()), []).append(st.distribution)
    statements: list[dict[str, Any]] = []
    for text, found in by_text.items():
        d = pooled(found)
        if not d.shown:
            continue
        statements.append(
            {
                "text": text,
                "mean": _rounded(d.mean),
                "mean_text": decimal_text(d.mean, lang),
                "agreement": _rounded(d.agreement_rate),
                "agreement_text": percent_text(d.agreement_rate, lang),
                "answers": d.answers,
            }
        )
    if not statements and not taking_part:
        return None
    rate = response_rate(participated, invited)
    return {
        "year": year_,
        "participated": participated,
        "invited": invited,
        "response_rate": _rounded(rate),
        "response_rate_text": percent_text(rate, lang),
        "response_rate_percent": percent(rate),
        "statements": statements,
    }


def _meetings(db: Session, lang: str, inp: ReportInput, now: dt.datetime) -> list[dict[str, Any]]:
    """Each committee's next planned meeting (`!sitzung plan`), the soonest first."""
    found: list[tuple[dt.datetime, dict[str, Any]]] = []
    for plan in meetings.active_plans(db, list(inp.labels)):
        zone = inp.zones[plan.room_id]
        for planned in upcoming_of(plan, now.astimezone(zone), 1):
            starts = planned.starts(zone)
            found.append(
                (
                    starts,
                    {
                        "room_id": plan.room_id,
                        "committee": inp.labels[plan.room_id],
                        "when": starts.isoformat(timespec="minutes"),
                        "when_text": planned.text(lang),
                    },
                )
            )
    found.sort(key=lambda item: (item[0], item[1]["committee"].casefold()))
    return [entry for _, entry in found]


def _circulations(db: Session, lang: str, inp: ReportInput) -> list[dict[str, Any]]:
    """The circulations still running (`!umlauf`), the first to end first."""
    found: list[tuple[dt.datetime, dict[str, Any]]] = []
    for room_id, name in inp.labels.items():
        zone = inp.zones[room_id]
        for d in decisions.running(db, room_id):
            ends = d.deadline.astimezone(zone) if d.deadline is not None else None
            entry = {
                "room_id": room_id,
                "committee": name,
                "title": " ".join(d.text.split()),
                "ends": ends.isoformat(timespec="minutes") if ends is not None else None,
                "ends_text": format_datetime(ends, lang) if ends is not None else None,
            }
            found.append((ends or dt.datetime.max.replace(tzinfo=dt.UTC), entry))
    found.sort(key=lambda item: (item[0], item[1]["committee"].casefold()))
    return [entry for _, entry in found]


# ------------------------------------------------------------------------------ downloads


def exports(lang: str, viewer: Viewer) -> list[dict[str, str]]:
    """The downloads the viewer may order: the coordination every export format and the
    papers, a chair the papers of their committee (as with commands)."""
    names = [*FORMATS, *PAPERS] if viewer.role >= Role.COORDINATION else list(PAPERS)
    return [
        {"format": n, "label": i18n.plain(lang, "dashboard.export." + n.replace("-", "_"))}
        for n in names
    ]


def export_order(
    db: Session,
    viewer: Viewer,
    *,
    file_format: str,
    room: str | None,
    period_text: str | None,
    lang: str,
    now: dt.datetime,
    defaults: Defaults,
) -> FileOrder:
    """The file a download button asks for: `room` one committee the viewer sees, or
    "all"/None for all of them; the period in the words of `!export` / `!bericht`
    (empty: everything, the report last month). `Refused` names what cannot be had."""
    if file_format not in {*FORMATS, *PAPERS}:
        raise Refused(400, "format")
    if file_format not in {e["format"] for e in exports(lang, viewer)}:
        raise Refused(403, "format")
    local = now.astimezone(defaults.zone)
    today = local.date()
    seen = report_for(db, viewer, lang, previous_month(today), now, defaults).labels
    one = None if room in (None, "", "all") else room
    if one is not None and one not in seen:
        raise Refused(403, "room")
    text = (period_text or "").strip()
    if file_format in PAPERS:
        if one is None and viewer.role < Role.COORDINATION:
            if len(seen) != 1:
                raise Refused(400, "room")
            one = next(iter(seen))
        # As the commands read it: the report last month, the evaluation this year.
        default = previous_month(today) if file_format == PDF_REPORT else year(today.year)
        try:
            period = parse_past_period(text, today) if text else default
        except PeriodError:
            raise Refused(400, "period") from None
        if file_format == PDF_REPORT:
            later = report_pdf(report_input(db, lang, period, local, defaults, one), one)
        else:
            later = evaluation_file(db, one, period, lang, now=now, default_tz=defaults.timezone)
        return FileOrder(later.filename, later.mimetype, later.job)
    fmt = FORMATS[file_format]
    try:
        chosen = parse_period(text, today) if text else None
    except PeriodError:
        raise Refused(400, "period") from None
    zone: ZoneInfo = defaults.zone if one is None else room_timezone(db, one, defaults.timezone)
    scope = make_scope(
        room_ids=None if one is None else (one,),
        period=chosen,
        lang=lang,
        tz=zone,
        now=now,
    )
    name = filename(fmt, None if one is None else rooms.room_label(db, one), chosen)
    return FileOrder(name, fmt.mimetype, FileJob(EXPORT_JOB, job_params(fmt, scope), lang=lang))
