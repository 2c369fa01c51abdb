"""The leadership's decision tracking (Beschlusskontrolle), read in a few minutes: for a
period, each committee's figures, the items due or overdue with the office responsible,
due date, state and the reason for a delay, what was done, meetings, pulse trend and the
evaluation's participation; then possible duplicate work. Offices, never people: the
report holds no member's name or user ID (the agreements' texts are the committee's own).

`!bericht [zeitraum]` (coordination: every committee; a chair: their own; last month
without one, `!bericht quartal` the last whole quarter), `!bericht vorlage [zeitraum]` the
same as a committee paper (paper.py), `!bericht pdf [zeitraum]` the same as a PDF to file
(made after the command by the file job REPORT_PDF_JOB, which commands.papers.report
declares);
posted every month in the configured room (`report:`) by the timer `leadership-report`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session

from commands.agreements.offices import configured_offices
from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.defaults import Defaults, feature_settings
from commands.core.effects import LaterFile, Reply
from commands.core.file_jobs import PDF_MIMETYPE, FileJob, file_name
from commands.core.registry import Router
from commands.core.rich import Rich, bold
from commands.core.room import committee_zones, room_language
from commands.core.room_names import room_name
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.desk import control, paper
from commands.desk.facts import Committee, Facts, ReportInput, gather
from commands.desk.sections import agreement_lines, committee_extras, fitting, meetings_line
from commands.desk.settings import ReportSettings
from commands.desk.texts import overlap_lines
from commands.parsing.dates import format_date
from commands.parsing.periods import past_period, period_label
from storage import lease, reports, rooms
from storage.figures.period import (
    Period,
    PeriodKind,
    previous_month,
    previous_quarter,
    shift_month,
)

router = Router()

# ----------------------------------------------------------------------------- the report


def _bullet(line: Rich) -> Rich:
    return Rich("• ", "• ") + line


def _items(lang: str, rows: Sequence[control.Row], shown: int | None) -> list[Rich]:
    """The first `shown` rows (None: all), the rest counted."""
    cut = list(rows) if shown is None else list(rows)[:shown]
    out = [_bullet(control.line(lang, r)) for r in cut]
    if len(rows) > len(cut):
        out.append(_bullet(i18n.t(lang, "desk.report.more", count=len(rows) - len(cut))))
    return out


def _committee(inp: ReportInput, c: Committee, shown: int | None) -> list[Rich]:
    lang = inp.lang
    lines = [bold(c.name)]
    lines.extend(_bullet(x) for x in agreement_lines(lang, c.figures))
    lines.append(i18n.t(lang, "desk.report.due_title", count=len(c.due)))
    lines.extend(_items(lang, c.due, shown))
    lines.append(i18n.t(lang, "desk.report.done_title", count=len(c.done)))
    lines.extend(_items(lang, c.done, shown))
    lines.extend(_bullet(x) for x in committee_extras(lang, c))
    return lines


def render_report(inp: ReportInput, facts: Facts, shown: int | None = None) -> Rich:
    lang = inp.lang
    lines = [
        bold(i18n.plain(lang, "desk.report.title", period=period_label(lang, inp.period))),
        i18n.t(
            lang,
            "desk.report.intro",
            date=format_date(inp.now.date(), lang),
            committees=len(facts.committees),
        ),
        Rich("", ""),
        bold(i18n.plain(lang, "desk.report.all")),
    ]
    lines.extend(_bullet(x) for x in agreement_lines(lang, facts.total))
    lines.append(_bullet(meetings_line(lang, facts.meetings)))
    for c in facts.committees:
        lines.append(Rich("", ""))
        lines.extend(_committee(inp, c, shown))
    lines.append(Rich("", ""))
    lines.extend(overlap_lines(lang, facts.overlaps, inp.labels))
    if shown is not None:
        lines.extend([Rich("", ""), i18n.t(lang, "desk.report.shortened", shown=shown)])
    return Rich.join(lines)


def build_report(inp: ReportInput) -> Rich:
    facts = gather(inp)
    return fitting(lambda shown: render_report(inp, facts, shown))


# ---------------------------------------------------------------------------- the command


def committees(db: Session, report_room: str | None, lang: str) -> dict[str, str]:
    """The rooms the bot is in, by name; the report's own room is no committee."""
    return {
        r.room_id: room_name(lang, r.room_id, r.name)
        for r in rooms.committee_rooms(db)
        if r.room_id != report_room
    }


def report_input(
    db: Session,
    lang: str,
    period: Period,
    now: dt.datetime,
    defaults: Defaults,
    only: str | None = None,
) -> ReportInput:
    """What a report reads: every committee, or `only` that room (a chair's report)."""
    settings = feature_settings(defaults, "report", ReportSettings())
    labels = committees(db, settings.room, lang)
    if only is not None:
        labels = {r: name for r, name in labels.items() if r == only}
    zones = {r: z for r, z in committee_zones(db, defaults.zone).items() if r in labels}
    return ReportInput(db, lang, period, now, defaults, labels, zones, configured_offices(defaults))


# The first word that asks for the committee paper instead of the report.
PAPER_WORDS = frozenset({"vorlage", "paper"})
# The first word that asks for the report as a PDF, and the file job that makes it.
PDF_WORD = "pdf"
REPORT_PDF_JOB = "report-pdf"


@router.command("bericht", aliases=("report",), role=Role.CHAIR)
def report(ctx: Context, args: str) -> Rich | LaterFile:
    """Coordination: every committee. A chair: their own committee, the status report it
    takes note of (zur Kenntnis)."""
    now = ctx.now.astimezone(ctx.defaults.zone)
    words = args.split(maxsplit=1)
    first = words[0].casefold() if words else ""
    as_paper = first in PAPER_WORDS
    as_pdf = first == PDF_WORD
    asked = (words[1] if len(words) > 1 else "") if as_paper or as_pdf else args
    if asked.strip():
        period = past_period(asked, now.date())
    elif as_paper:
        # A committee paper usually reports a quarter.
        period = previous_quarter(now.date())
    else:
        period = previous_month(now.date())
    only = None if ctx.role >= Role.COORDINATION else ctx.room_id
    inp = report_input(ctx.db, ctx.lang, period, now, ctx.defaults, only)
    if as_pdf:
        return report_pdf(inp, only)
    return paper.build_paper(inp) if as_paper else build_report(inp)


def report_pdf(inp: ReportInput, only: str | None) -> LaterFile:
    """The report as a PDF, made by the file job from the committees this command chose
    (their names and zones: no person) and the configured offices the job is handed."""
    params = {
        "lang": inp.lang,
        "first": inp.period.first.isoformat(),
        "last": inp.period.last.isoformat(),
        "kind": inp.period.kind.value,
        "now": inp.now.isoformat(),
        "tz": inp.defaults.timezone,
        "rooms": {r: [name, inp.zones[r].key] for r, name in inp.labels.items()},
        # A chair's report: the header names their committee.
        "only": only,
    }
    label = period_label(inp.lang, inp.period)
    return LaterFile(
        filename=pdf_filename(inp, only),
        mimetype=PDF_MIMETYPE,
        job=FileJob(REPORT_PDF_JOB, params, lang=inp.lang),
        caption=i18n.t(inp.lang, "papers.report.caption", period=label),
    )


def pdf_filename(inp: ReportInput, only: str | None) -> str:
    """ "Beschlusskontrolle-2026-03.pdf", "…-2026-Q1.pdf"; a chair's names the committee:
    "Beschlusskontrolle-Schulausschuss-2026-03.pdf"."""
    committee = inp.labels[only] if only is not None and only in inp.labels else ""
    period = inp.period
    if period.kind is PeriodKind.QUARTER:
        when = f"{period.first.year}-Q{(period.first.month + 2) // 3}"
    else:
        when = period.label
    return file_name(
        i18n.plain(inp.lang, "papers.report.filename"), committee, when, extension="pdf"
    )


# ------------------------------------------------------------------------- the monthly post


def report_moment(settings: ReportSettings, year: int, month: int, zone: dt.tzinfo) -> dt.datetime:
    """When the month's report is due: its configured day (at most the month's last) and hour."""
    day = min(settings.day, calendar.monthrange(year, month)[1])
    return dt.datetime(year, month, day, settings.hour, tzinfo=zone)


@router.timer("leadership-report")
def monthly_report(
    db: Session, now: dt.datetime, env: TimerEnv, room_id: str | None
) -> TimerResult:
    """Post last month's report once its moment has come; nothing when posted already.

    Only the latest report owed is posted (a bot down for months does not flood the
    room), and none owed from before the bot first ran (the reminder epoch).
    """
    result = TimerResult()
    settings = feature_settings(env.defaults, "report", ReportSettings())
    # A command's poke of one room concerns the reminders of that room, not this.
    if settings.room is None or room_id is not None:
        return result
    zone = env.defaults.zone
    local = now.astimezone(zone)
    this_month = report_moment(settings, local.year, local.month, zone)
    if this_month <= now:
        due_at = this_month
        result.later(report_moment(settings, *shift_month(local.year, local.month, 1), zone))
    else:
        due_at = report_moment(settings, *shift_month(local.year, local.month, -1), zone)
        result.later(this_month)
    period = previous_month(due_at.date())
    key = f"report:{period.first:%Y-%m}"
    floor = lease.epoch(db)
    if (floor is not None and due_at < floor) or reports.logged(db, key) is not None:
        return result
    lang = room_language(db, settings.room, env.defaults.language)
    inp = report_input(db, lang, period, local, env.defaults)
    reports.log_report(db, key, room_id=settings.room, period_start=period.first, at=now)
    reply = Reply(build_report(inp), key=key)
    result.effects.append(Timed(key=key, room_id=settings.room, effect=reply))
    return result
