"""`!top <Thema>` (agenda requests for the next planned meeting, until the rules' cutoff)
and `!tagesordnung` (its draft agenda in the standing order); the items and the standing
order are the procedure's (commands.procedure.agenda), the dates the meeting plan's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, command_hint
from commands.core.errors import UsageError
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.core.text_input import check_length, clean
from commands.meetings.calendar import Planned, upcoming
from commands.parsing.dates import format_date
from commands.procedure.agenda import cutoff_of, draft_agenda, placement
from commands.procedure.common import room_rules
from commands.procedure.engine import Rules
from storage import agenda_requests as agenda_store

router = Router()

_KEY = "procedure_meetings"
# The longest topic `!top` takes: an agenda item's title, not a paper.
TOPIC_LIMIT = 300
# How many planned meetings a request may be put off by at most (a weekly series whose
# rules want items a month ahead).
_LOOK_AHEAD = 20


@router.command("top", aliases=("item",))
def top(ctx: Context, args: str) -> Rich:
    """`!top Haushalt 2027`: an item for the next planned meeting whose cutoff is ahead."""
    topic = " ".join(clean(args).split())
    if not topic:
        raise UsageError(f"{_KEY}.top.missing")
    check_length(topic, TOPIC_LIMIT)
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    ahead = upcoming(ctx.db, ctx.room_id, ctx.now, _LOOK_AHEAD)
    today = ctx.now.astimezone(ctx.tz).date()
    place = placement(today, [p.date for p in ahead], rules)
    agenda_store.propose(
        ctx.db,
        room_id=ctx.room_id,
        text=topic,
        by=ctx.sender,
        at=ctx.now,
        meeting_date=place.meeting_date,
        source_event_id=ctx.event_id,
    )
    shown = text(topic)
    agenda = command_hint(ctx, "tagesordnung", "agenda")
    if place.next_date is None or place.cutoff is None:
        plan = command_hint(ctx, "sitzung plan 14.1. 10 Uhr", "meeting plan 14.1. 10:00")
        return i18n.t(ctx.lang, f"{_KEY}.top.unplanned", text=shown, cmd=plan)
    first = ahead[0]
    cutoff = format_date(place.cutoff, ctx.lang)
    if place.in_time:
        return i18n.t(
            ctx.lang,
            f"{_KEY}.top.noted",
            when=first.text(ctx.lang),
            text=shown,
            cutoff=cutoff,
            cmd=agenda,
        )
    target = next((p for p in ahead if p.date == place.meeting_date), None)
    values = {
        "when": first.text(ctx.lang),
        "cutoff": cutoff,
        "days": rules.agenda_cutoff_days,
        "text": shown,
        "cmd": agenda,
    }
    if target is None:
        return i18n.t(ctx.lang, f"{_KEY}.top.too_late", **values)
    return i18n.t(ctx.lang, f"{_KEY}.top.too_late_next", next=target.text(ctx.lang), **values)


@router.command("tagesordnung", aliases=("agenda",))
def agenda(ctx: Context, args: str) -> Rich:
    """The draft agenda of the next planned meeting."""
    if args.strip():
        raise UsageError(f"{_KEY}.agenda.takes_nothing")
    ahead = upcoming(ctx.db, ctx.room_id, ctx.now, 1)
    meeting = ahead[0] if ahead else None
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    hint = command_hint(ctx, "top <Thema>", "item <topic>")
    return agenda_text(
        ctx.db,
        ctx.room_id,
        meeting,
        lang=ctx.lang,
        local_now=ctx.now.astimezone(ctx.tz),
        names=ctx.members,
        rules=rules,
        hint=hint,
    )


def agenda_text(
    db: Session,
    room_id: str,
    meeting: Planned | None,
    *,
    lang: str,
    local_now: dt.datetime,
    names: Mapping[str, str] | None,
    rules: Rules,
    hint: Rich,
    title: bool = True,
) -> Rich:
    """The draft agenda with its title and, last, until when items may be asked for."""
    lines: list[Rich] = []
    if title:
        lines.append(
            i18n.t(lang, f"{_KEY}.agenda.title", when=meeting.text(lang))
            if meeting is not None
            else i18n.t(lang, f"{_KEY}.agenda.title_unplanned")
        )
    day = None if meeting is None else meeting.date
    lines.extend(draft_agenda(db, room_id, day, lang, local_now, names))
    if meeting is None:
        lines.append(i18n.t(lang, f"{_KEY}.agenda.unplanned_hint", cmd=hint))
        return Rich.join(lines)
    cutoff = cutoff_of(meeting.date, rules)
    key = "open_until" if local_now.date() <= cutoff else "closed"
    lines.append(
        i18n.t(
            lang,
            f"{_KEY}.agenda.{key}",
            cutoff=format_date(cutoff, lang),
            days=rules.agenda_cutoff_days,
            cmd=hint,
        )
    )
    return Rich.join(lines)
