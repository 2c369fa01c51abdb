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
from commands.core.errors import UsageError
from commands.core.registry import Router
from commands.core.rich import Rich, bold
from commands.core.room import room_language
from commands.core.room_names import room_name
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.desk.overlaps import Item, find_overlaps
from commands.desk.periods import Asked, parse_period, previous_month
from commands.desk.settings import OverviewSettings, ReportSettings
from commands.desk.texts import overlap_lines, rate
from commands.parsing.date_words import DE_MONTHS, EN_MONTHS
from commands.polls.common import MIN_BREAKDOWN
from storage import agreements as store
from storage import lease, meetings, polls, reports, rooms
from storage.figures import Figures, figures

router = Router()


@dataclass(frozen=True)
class ReportInput:
    """What every section of a report may use."""

    db: Session
    lang: str
    asked: Asked
    now: dt.datetime
    zone: ZoneInfo
    defaults: Defaults
    # The committees reported on, by room ID, with their names.
    labels: Mapping[str, str]


Section = Callable[[ReportInput], list[Rich]]


def figures_section(inp: ReportInput) -> list[Rich]:
    counted = figures(
        inp.db, inp.asked.period, now=inp.now, zone=inp.zone, room_ids=list(inp.labels)
    )
    total = sum(counted.values(), Figures())
    lines = [
        bold(i18n.plain(inp.lang, "desk.report.figures_title")),
        _figures_line(inp.lang, bold(i18n.plain(inp.lang, "desk.report.all")), total),
    ]
    order = sorted(inp.labels, key=lambda r: (inp.labels[r].casefold(), r))
    lines.extend(_figures_line(inp.lang, bold(inp.labels[r]), counted[r]) for r in order)
    return lines


def _figures_line(lang: str, name: Rich, f: Figures) -> Rich:
    return i18n.t(
        lang,
        "desk.report.line",
        room=name,
        recorded=f.recorded,
        done=f.done,
        on_time=f.done_on_time,
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


def _window(inp: ReportInput) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """The period as moments, and the start of the period of the same length before it."""
    period = inp.asked.period
    start = period.start or dt.date(inp.asked.year, 1, 1)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=inp.zone)
    until = dt.datetime.combine(period.end, dt.time.min, tzinfo=inp.zone)
    return since, until, since - (until - since)


def meetings_section(inp: ReportInput) -> list[Rich]:
    since, until, _before = _window(inp)
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
    """Each committee's pulse mean in the period beside the period before: the trend."""
    since, until, before = _window(inp)
    rooms_ = list(inp.labels)
    now = polls.pulse_figures(inp.db, since, until, room_ids=rooms_, min_answers=MIN_BREAKDOWN)
    then = polls.pulse_figures(inp.db, before, since, room_ids=rooms_, min_answers=MIN_BREAKDOWN)
    lines = [bold(i18n.plain(inp.lang, "desk.report.pulse_title"))]
    if not now:
        lines.append(i18n.t(inp.lang, "desk.report.pulse_none", min=MIN_BREAKDOWN))
        return lines
    for r in sorted(now, key=lambda r: (inp.labels[r].casefold(), r)):
        mean = now[r].mean
        assert mean is not None
        previous = then.get(r)
        if previous is None or previous.mean is None:
            trend = i18n.plain(inp.lang, "desk.report.pulse_new")
        else:
            delta = mean - previous.mean
            direction = "up" if delta >= 0.2 else "down" if delta <= -0.2 else "same"
            trend = i18n.plain(
                inp.lang,
                "desk.report.pulse_trend",
                previous=i18n.decimal(previous.mean, inp.lang),
                direction=i18n.plain(inp.lang, f"desk.report.pulse_{direction}"),
            )
        lines.append(
            i18n.t(
                inp.lang,
                "desk.report.pulse_line",
                room=bold(inp.labels[r]),
                mean=i18n.decimal(mean, inp.lang),
                pulses=now[r].pulses,
                trend=trend,
            )
        )
    return lines


# The report's sections, in order.
SECTIONS: tuple[Section, ...] = (figures_section, meetings_section, pulse_section, overlaps_section)


def period_label(lang: str, asked: Asked) -> str:
    if asked.month is None:
        return str(asked.year)
    months = EN_MONTHS if lang == "en" else DE_MONTHS
    return f"{months[asked.month - 1]} {asked.year}"


def build_report(inp: ReportInput) -> Rich:
    lines = [
        bold(i18n.plain(inp.lang, "desk.report.title", period=period_label(inp.lang, inp.asked)))
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
    asked = parse_period(args, now.date())
    if asked is None:
        raise UsageError("desk.report.bad_period", value=args.strip())
    settings = feature_settings(ctx.defaults, "report", ReportSettings())
    inp = ReportInput(
        ctx.db,
        ctx.lang,
        asked,
        now,
        zone,
        ctx.defaults,
        committees(ctx.db, settings.room, ctx.lang),
    )
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
    asked = previous_month(due_at.date())
    assert asked.period.start is not None
    key = f"report:{asked.period.start:%Y-%m}"
    floor = lease.epoch(db)
    if (floor is not None and due_at < floor) or reports.logged(db, key) is not None:
        return result
    lang = room_language(db, settings.room, env.defaults.language)
    inp = ReportInput(
        db, lang, asked, local, zone, env.defaults, committees(db, settings.room, lang)
    )
    reports.log_report(db, key, room_id=settings.room, period_start=asked.period.start, at=now)
    reply = Reply(build_report(inp), key=key)
    result.effects.append(Timed(key=key, room_id=settings.room, effect=reply))
    return result
