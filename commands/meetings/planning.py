"""`!sitzung plan <wann>` (one date or a series), `!sitzung plan löschen`, `!sitzung` (the
next planned meetings); and the due date `bis zur nächsten Sitzung` / `by the next meeting`."""

from __future__ import annotations

import re

from commands.core import i18n
from commands.core.context import Context
from commands.core.errors import CommandError, UsageError
from commands.core.registry import Router
from commands.core.rich import Rich
from commands.core.when import When
from commands.meetings.calendar import Planned, upcoming
from commands.meetings.common import command, moment_text, require_chair
from commands.parsing.dates import (
    YEARS_AHEAD_LIMIT,
    fold,
    format_date,
    format_when,
    parse_when,
    too_far_ahead,
)
from commands.parsing.recurrence import parse_recurrence
from commands.reminders.plan import recurrence_value
from storage import meetings as store

router = Router()

_CLEAR_WORDS = frozenset(
    {"loeschen", "entfernen", "aufheben", "keine", "delete", "remove", "clear", "cancel", "none"}
)
# "bis zur nächsten Sitzung", "zur naechsten sitzung", "by the next meeting", "next meeting".
_NEXT_MEETING = re.compile(
    r"(?:(?:bis|by|until|till|zum|zur)\s+)?(?:(?:zur|zu\s+der|the)\s+)?"
    r"(?:naechste[nr]?|kommende[nr]?|next)\s+(?:sitzung|meeting)[.!]?"
)


def plan(ctx: Context, rest: str) -> Rich:
    require_chair(ctx)
    value = rest.strip()
    if not value:
        raise UsageError("meeting.plan_missing")
    if fold(value) in _CLEAR_WORDS:
        return clear(ctx)
    series = parse_recurrence(value)
    if series is not None:
        rule, leftover = series
        if leftover:
            raise CommandError("meeting.plan_unclear", value=value)
        store.set_plan(
            ctx.db,
            ctx.room_id,
            recurrence=recurrence_value(rule),
            by=ctx.sender,
            at=ctx.now,
            source_event_id=ctx.event_id,
        )
        nxt = upcoming(ctx.db, ctx.room_id, ctx.now, 1)
        return i18n.t(
            ctx.lang,
            "meeting.planned_series",
            rule=rule.describe(ctx.lang),
            # The rule says the time already: the first meeting is named by its day.
            first=format_date(nxt[0].date, ctx.lang),
            cmd=command(ctx, "plan löschen", "plan delete"),
        )
    when = parse_when(value, now=ctx.now)
    if when is None:
        raise CommandError("meeting.plan_unclear", value=value)
    single = Planned(when.date, when.time)
    if single.over(ctx.tz) <= ctx.now:
        raise CommandError("meeting.plan_past", when=format_when(when, ctx.lang))
    if too_far_ahead(when.date, ctx.now.date()):
        raise CommandError(
            "meeting.plan_too_far", when=format_when(when, ctx.lang), years=YEARS_AHEAD_LIMIT
        )
    store.set_plan(
        ctx.db,
        ctx.room_id,
        next_date=when.date,
        next_time=when.time,
        by=ctx.sender,
        at=ctx.now,
        source_event_id=ctx.event_id,
    )
    return i18n.t(
        ctx.lang,
        "meeting.planned_once",
        when=single.text(ctx.lang),
        cmd=command(ctx, "plan löschen", "plan delete"),
    )


def clear(ctx: Context) -> Rich:
    if not store.clear_plan(ctx.db, ctx.room_id):
        raise CommandError(
            "meeting.no_plan", cmd=command(ctx, "plan 14.1. 10 Uhr", "plan 14.1. 10:00")
        )
    return i18n.t(ctx.lang, "meeting.plan_cleared")


def show(ctx: Context) -> Rich:
    lines: list[Rich] = []
    running = store.running(ctx.db, ctx.room_id)
    if running is not None:
        lines.append(
            i18n.t(
                ctx.lang,
                "meeting.running_now",
                number=running.number,
                since=moment_text(ctx, running.started_at),
                cmd=command(ctx, "ende", "end"),
            )
        )
    ahead = upcoming(ctx.db, ctx.room_id, ctx.now)
    if not ahead:
        lines.append(
            i18n.t(
                ctx.lang,
                "meeting.nothing_planned",
                cmd=command(ctx, "plan 14.1. 10 Uhr", "plan 14.1. 10:00"),
            )
        )
        return Rich.join(lines)
    lines.append(i18n.t(ctx.lang, "meeting.upcoming_title"))
    lines.extend(i18n.t(ctx.lang, "meeting.upcoming_line", when=p.text(ctx.lang)) for p in ahead)
    return Rich.join(lines)


@router.due_date()
def by_next_meeting(ctx: Context, value: str) -> When | None:
    """`bis zur nächsten Sitzung`: the day of the room's next planned meeting."""
    if _NEXT_MEETING.fullmatch(" ".join(fold(value).split())) is None:
        return None
    ahead = upcoming(ctx.db, ctx.room_id, ctx.now, 1)
    if not ahead:
        raise CommandError(
            "meeting.due_without_plan", cmd=command(ctx, "plan 14.1. 10 Uhr", "plan 14.1. 10:00")
        )
    return When(ahead[0].date)
