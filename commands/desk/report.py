"""The one-page report for the leadership ("Chefsache", read in a minute): each committee's
figures for a period and the possible duplicate work, without names of members.

Posted every month in the configured room (`report:` in the config) by the timer
`leadership-report`, and on demand with `!bericht [zeitraum]` (coordination). The report
is a list of sections (SECTIONS): a new one (meetings held, the pulse trend) is one
function more.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.defaults import Defaults, feature_settings
from commands.core.effects import Reply
from commands.core.registry import Router
from commands.core.rich import Rich, bold
from commands.core.room import committee_zones, room_language
from commands.core.room_names import room_name
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.desk.overlaps import Item, find_overlaps
from commands.desk.settings import OverviewSettings, ReportSettings
from commands.desk.texts import overlap_lines, rate
from commands.parsing.date_words import DE_MONTHS, EN_MONTHS
from commands.parsing.dates import format_date
from commands.parsing.periods import PeriodError, parse_past_period, refusal
from storage import agreements as store
from storage import lease, meetings, reports, rooms
from storage.figures.agreements import AgreementFigures, agreement_figures
from storage.figures.period import Period, PeriodKind, previous_month
from storage.figures.votes import MIN_ANSWERS, pulse_figures, pulses

router = Router()


@dataclass(frozen=True)
class ReportInput:
    """What every section of a report may use."""

    db: Session
    lang: str
    period: Period
    now: dt.datetime
    zone: ZoneInfo
    defaults: Defaults
    # The committees reported on, by room ID, with their names.
    labels: Mapping[str, str]
    # The committees reported on, with their time zones.
    zones: Mapping[str, ZoneInfo]


Section = Callable[[ReportInput], list[Rich]]


def figures_section(inp: ReportInput) -> list[Rich]:
    counted = agreement_figures(inp.db, inp.period, inp.zones, inp.now)
    total = sum(counted.values(), AgreementFigures())
    lines = [
        bold(i18n.plain(inp.lang, "desk.report.figures_title")),
        _figures_line(inp.lang, bold(i18n.plain(inp.lang, "desk.report.all")), total),
    ]
    order = sorted(inp.labels, key=lambda r: (inp.labels[r].casefold(), r))
    lines.extend(_figures_line(inp.lang, bold(inp.labels[r]), counted[r]) for r in order)
    return lines


def _figures_line(lang: str, name: Rich, f: AgreementFigures) -> Rich:
    return i18n.t(
        lang,
        "desk.report.line",
        room=name,
        recorded=f.recorded.total,
        done=f.recorded.done,
        on_time=f.recorded.on_time,
        deadlines=rate(lang, f, "desk.report.deadlines"),
    )


def overlaps_section(inp: ReportInput) -> list[Rich]:
    settings = feature_settings(inp.defaults, "overview", OverviewSettings())
    open_items = [
        a for a in store.open_agreements(inp.db, with_due_date=False) if a.room_id in inp.labels
    ]
    found = find_overlaps(
        [Item(a.room_id, a.number, a.text) for a in open_items], settings.overlap_threshold
    )
    return overlap_lines(inp.lang, found, inp.labels)


def meetings_section(inp: ReportInput) -> list[Rich]:
    since, until = inp.period.bounds(inp.zone)
    held = meetings.held_per_room(inp.db, since, until)
    counted = {r: held.get(r, 0) for r in inp.labels}
    lines = [
        bold(i18n.plain(inp.lang, "desk.report.meetings_title")),
        i18n.t(inp.lang, "desk.report.meetings_total", count=sum(counted.values())),
    ]
    order = sorted(inp.labels, key=lambda r: (inp.labels[r].casefold(), r))
    lines.extend(
        i18n.t(inp.lang, "desk.report.meetings_line", room=bold(inp.labels[r]), count=counted[r])
        for r in order
    )
    return lines


def pulse_section(inp: ReportInput) -> list[Rich]:
    """Each committee's pulse mean in the period (all answers pooled) beside the period
    before: the trend."""
    asked = pulses(inp.db, inp.period, inp.zones)
    earlier = pulses(inp.db, inp.period.before(), inp.zones)
    now = {r: f for r, f in pulse_figures(asked, inp.zones).items() if f.mean is not None}
    then = pulse_figures(earlier, inp.zones)
    lines = [bold(i18n.plain(inp.lang, "desk.report.pulse_title"))]
    if not now:
        lines.append(i18n.t(inp.lang, "desk.report.pulse_none", min=MIN_ANSWERS))
        return lines
    for r in sorted(now, key=lambda r: (inp.labels[r].casefold(), r)):
        mean = now[r].mean
        assert mean is not None
        previous = then[r].mean
        if previous is None:
            trend = i18n.plain(inp.lang, "desk.report.pulse_new")
        else:
            delta = mean - previous
            direction = "up" if delta >= 0.2 else "down" if delta <= -0.2 else "same"
            trend = i18n.plain(
                inp.lang,
                "desk.report.pulse_trend",
                previous=i18n.decimal(previous, inp.lang),
                direction=i18n.plain(inp.lang, f"desk.report.pulse_{direction}"),
            )
        lines.append(
            i18n.t(
                inp.lang,
                "desk.report.pulse_line",
                room=bold(inp.labels[r]),
                mean=i18n.decimal(mean, inp.lang),
                pulses=now[r].counted,
                trend=trend,
            )
        )
    return lines


# The report's sections, in order.
SECTIONS: tuple[Section, ...] = (figures_section, meetings_section, pulse_section, overlaps_section)


def period_label(lang: str, period: Period) -> str:
    """ "2026", "1. Quartal 2026", "März 2026", "01.01.2026–15.02.2026"."""
    first = period.first
    if period.kind is PeriodKind.YEAR:
        return str(first.year)
    if period.kind is PeriodKind.QUARTER:
        return i18n.plain(
            lang, "desk.report.quarter", quarter=(first.month + 2) // 3, year=first.year
        )
    if period.kind is PeriodKind.MONTH:
        months = EN_MONTHS if lang == "en" else DE_MONTHS
        return f"{months[first.month - 1]} {first.year}"
    return f"{format_date(first, lang)}–{format_date(period.last, lang)}"


def build_report(inp: ReportInput) -> Rich:
    lines = [
        bold(i18n.plain(inp.lang, "desk.report.title", period=period_label(inp.lang, inp.period)))
    ]
    lines.append(i18n.t(inp.lang, "desk.report.intro", committees=len(inp.labels)))
    for section in SECTIONS:
        lines.append(Rich("", ""))
        lines.extend(section(inp))
    return Rich.join(lines)


def committees(db: Session, report_room: str | None, lang: str) -> dict[str, str]:
    """The rooms the bot is in, by name; the report's own room is no committee."""
    return {
        r.room_id: room_name(lang, r.room_id, r.name)
        for r in rooms.committee_rooms(db)
        if r.room_id != report_room
    }


@router.command("bericht", aliases=("report",), role=Role.COORDINATION)
def report(ctx: Context, args: str) -> Rich:
    zone = ctx.defaults.zone
    now = ctx.now.astimezone(zone)
    if args.strip():
        try:
            period = parse_past_period(args, now.date())
        except PeriodError as exc:
            raise refusal(exc, args) from None
    else:
        period = previous_month(now.date())
    settings = feature_settings(ctx.defaults, "report", ReportSettings())
    labels = committees(ctx.db, settings.room, ctx.lang)
    zones = {r: z for r, z in committee_zones(ctx.db, zone).items() if r in labels}
    inp = ReportInput(ctx.db, ctx.lang, period, now, zone, ctx.defaults, labels, zones)
    return build_report(inp)


# ------------------------------------------------------------------------- the monthly post


def report_moment(settings: ReportSettings, year: int, month: int, zone: ZoneInfo) -> dt.datetime:
    """When the month's report is due: its configured day (at most the month's last) and hour."""
    day = min(settings.day, calendar.monthrange(year, month)[1])
    return dt.datetime(year, month, day, settings.hour, tzinfo=zone)


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


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
        result.later(report_moment(settings, *_shift(local.year, local.month, 1), zone))
    else:
        due_at = report_moment(settings, *_shift(local.year, local.month, -1), zone)
        result.later(this_month)
    period = previous_month(due_at.date())
    key = f"report:{period.first:%Y-%m}"
    floor = lease.epoch(db)
    if (floor is not None and due_at < floor) or reports.logged(db, key) is not None:
        return result
    lang = room_language(db, settings.room, env.defaults.language)
    labels = committees(db, settings.room, lang)
    zones = {r: z for r, z in committee_zones(db, zone).items() if r in labels}
    inp = ReportInput(db, lang, period, local, zone, env.defaults, labels, zones)
    reports.log_report(db, key, room_id=settings.room, period_start=period.first, at=now)
    reply = Reply(build_report(inp), key=key)
    result.effects.append(Timed(key=key, room_id=settings.room, effect=reply))
    return result
