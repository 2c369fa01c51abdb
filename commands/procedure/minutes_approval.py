"""Approved minutes: the minutes posted at `!sitzung ende` are a draft; a voting member may
object within the rules' period (`!einspruch 4 <Grund>`); without an objection a timer
marks them approved at the end of the period and says so in the room, with one the
approval goes on the next meeting's draft agenda with the objections (AgendaRequest kind
minutes), and the meeting that takes it up approves them (commands.procedure.agenda).

The last day for objections is fixed when the meeting ends and kept in the minutes' facts
(`OBJECTION_UNTIL`, commands.meetings.minutes), so that it stays the day the draft named
even if the rules change later. Minutes without it (written before drafts existed) are
neither objected to nor approved.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError, UsageError
from commands.core.names import display_name
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.core.room import LANGUAGE_KEY
from commands.core.text_input import check_length, clean
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.core.when import combine_local
from commands.parsing.dates import format_date
from commands.procedure.common import room_rules, split_meeting_number, voters
from commands.procedure.engine import Rules
from commands.reminders.settings import policy_from_settings
from storage import agenda_requests as agenda_store
from storage import meetings as store
from storage import rooms
from storage.models import Meeting, MinutesObjection, RefKind

router = Router()

_KEY = "procedure_meetings"
# The key of the last day for objections in the minutes' facts (an ISO date, room time).
OBJECTION_UNTIL = "objection_until"
# The longest reason an objection may give.
REASON_LIMIT = 1000
# Meetings that ended longer ago than this are not looked at by the timer any more: the
# longest objection period the rules allow (commands.procedure.words.MAX_DAYS) and a bot
# down for a month fit into it.
_LOOK_BACK = dt.timedelta(days=120)


def objection_until(ended_at: dt.datetime, rules: Rules, tz: ZoneInfo) -> dt.date:
    """The last day (room time) to object to the minutes of a meeting ended at `ended_at`."""
    return ended_at.astimezone(tz).date() + dt.timedelta(days=rules.minutes_objection_days)


@dataclass(frozen=True)
class Draft:
    """What the minutes' facts say about their approval: the last day for objections and
    the day the meeting ended (room time)."""

    until: dt.date
    ended_on: dt.date

    @property
    def days(self) -> int:
        return (self.until - self.ended_on).days


def draft_of(meeting: Meeting) -> Draft | None:
    """The draft's period; None for minutes written before drafts existed (or none yet)."""
    if meeting.minutes is None:
        return None
    facts = json.loads(meeting.minutes)
    until = facts.get(OBJECTION_UNTIL)
    if not until:
        return None
    tz = ZoneInfo(facts["timezone"])
    ended_on = dt.datetime.fromisoformat(facts["ended_at"]).astimezone(tz).date()
    return Draft(dt.date.fromisoformat(until), ended_on)


def minutes_zone(meeting: Meeting) -> ZoneInfo:
    """The time zone the meeting's minutes were written in (UTC before they are)."""
    if meeting.minutes is None:
        return ZoneInfo("UTC")
    return ZoneInfo(json.loads(meeting.minutes)["timezone"])


def _hint(ctx: Context, number: int) -> Rich:
    return command_hint(ctx, f"einspruch {number} <Grund>", f"objection {number} <reason>")


class ApprovalState(StrEnum):
    """Where the minutes' approval stands; the values name the chat's texts
    (`procedure_meetings.minutes.<state>`)."""

    # Approved: minutes from before drafts existed, after objections by the next meeting,
    # without an objection in the period.
    APPROVED_PLAIN = "approved_plain"
    APPROVED_BY_MEETING = "approved_by_meeting"
    APPROVED = "approved"
    # A draft: objections still possible (none yet, or some), the period over with some,
    # the period over without one (the timer approves them at the reminder hour).
    DRAFT = "draft"
    DRAFT_OBJECTED = "draft_objected"
    OBJECTED = "objected"
    PERIOD_OVER = "period_over"

    @property
    def approved(self) -> bool:
        return self in (self.APPROVED_PLAIN, self.APPROVED_BY_MEETING, self.APPROVED)


@dataclass(frozen=True)
class Approval:
    state: ApprovalState
    # The day (room time) they were approved; the draft's period (None before drafts).
    approved_on: dt.date | None
    draft: Draft | None
    objections: int


def approval_of(db: Session, meeting: Meeting, tz: ZoneInfo, today: dt.date) -> Approval | None:
    """Where the approval of the meeting's minutes stands on `today` (room time); None for
    minutes written before drafts existed and never approved."""
    assert meeting.id is not None
    draft = draft_of(meeting)
    count = len(store.objections(db, [meeting.id])[meeting.id])
    if meeting.minutes_approved_at is not None:
        approved = meeting.minutes_approved_at.astimezone(tz).date()
        if draft is None:
            state = ApprovalState.APPROVED_PLAIN
        else:
            state = ApprovalState.APPROVED_BY_MEETING if count else ApprovalState.APPROVED
        return Approval(state, approved, draft, count)
    if draft is None:
        return None
    if today <= draft.until:
        state = ApprovalState.DRAFT_OBJECTED if count else ApprovalState.DRAFT
    else:
        state = ApprovalState.OBJECTED if count else ApprovalState.PERIOD_OVER
    return Approval(state, None, draft, count)


def status_line(ctx: Context, meeting: Meeting) -> Rich | None:
    """Where the minutes' approval stands, for the minutes shown now; None for minutes
    written before drafts existed and never approved."""
    approval = approval_of(ctx.db, meeting, ctx.tz, ctx.now.astimezone(ctx.tz).date())
    if approval is None:
        return None
    draft = approval.draft
    values: dict[str, object] = {"count": approval.objections}
    if approval.approved_on is not None:
        values["date"] = format_date(approval.approved_on, ctx.lang)
    if draft is not None:
        values |= {
            "until": format_date(draft.until, ctx.lang),
            "days": draft.days,
            "cmd": _hint(ctx, meeting.number),
        }
    return i18n.t(ctx.lang, f"{_KEY}.minutes.{approval.state.value}", **values)


# ----------------------------------------------------------------------------- !einspruch


@router.command("einspruch", aliases=("objection",))
def objection(ctx: Context, args: str) -> Rich:
    """`!einspruch 4 <Grund>`: object to the draft minutes of meeting #4."""
    number, reason = split_meeting_number(args)
    latest = store.latest(ctx.db, ctx.room_id)
    shown = latest[0].number if latest else 1
    example = command_hint(
        ctx, f"einspruch {shown} Punkt 3 fehlt", f"objection {shown} item 3 is missing"
    )
    if number is None:
        raise UsageError(f"{_KEY}.objection.missing_number", example=example)
    meeting = store.by_number(ctx.db, ctx.room_id, number)
    if meeting is None:
        raise CommandError(
            f"{_KEY}.objection.no_such",
            number=number,
            count=store.count(ctx.db, ctx.room_id),
            cmd=command_hint(ctx, "sitzung liste", "meeting list"),
        )
    assert meeting.id is not None
    if meeting.minutes is None:
        raise CommandError(
            f"{_KEY}.objection.running",
            number=number,
            cmd=command_hint(ctx, "sitzung ende", "meeting end"),
        )
    reason = " ".join(clean(reason).split())
    if not reason:
        raise UsageError(f"{_KEY}.objection.missing_reason", example=example)
    check_length(reason, REASON_LIMIT)
    mine = store.objection_of(ctx.db, meeting.id, ctx.sender)
    if mine is not None and mine.source_event_id == ctx.event_id:
        return _stored(ctx, meeting, mine)  # the same command again (a replayed event)
    draft = draft_of(meeting)
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    days = draft.days if draft is not None else rules.minutes_objection_days
    if meeting.minutes_approved_at is not None:
        approved = meeting.minutes_approved_at.astimezone(ctx.tz).date()
        raise CommandError(
            f"{_KEY}.objection.approved",
            number=number,
            date=format_date(approved, ctx.lang),
            days=days,
        )
    if draft is None:
        raise CommandError(f"{_KEY}.objection.no_procedure", number=number)
    if ctx.now.astimezone(ctx.tz).date() > draft.until:
        raise CommandError(
            f"{_KEY}.objection.too_late",
            number=number,
            until=format_date(draft.until, ctx.lang),
            days=days,
            cmd=command_hint(ctx, "top <Thema>", "item <topic>"),
        )
    if ctx.sender not in voters(ctx.db, ctx.room_id, ctx.members, ctx.bot_user):
        raise CommandError(f"{_KEY}.objection.not_voting")
    if mine is not None:
        raise CommandError(
            f"{_KEY}.objection.twice",
            number=number,
            date=format_date(mine.at.astimezone(ctx.tz).date(), ctx.lang),
            reason=text(mine.reason),
        )
    row, _created = store.add_objection(
        ctx.db,
        meeting.id,
        user_id=ctx.sender,
        reason=reason,
        at=ctx.now,
        source_event_id=ctx.event_id,
    )
    return _stored(ctx, meeting, row)


def _stored(ctx: Context, meeting: Meeting, row: MinutesObjection) -> Rich:
    draft = draft_of(meeting)
    until = format_date(draft.until, ctx.lang) if draft is not None else ""
    return i18n.t(
        ctx.lang,
        f"{_KEY}.objection.stored",
        number=meeting.number,
        reason=text(row.reason),
        until=until,
    )


# ---------------------------------------------------------------------------------- timer


@router.timer("minutes-approval")
def approve_minutes(
    db: Session, now: dt.datetime, env: TimerEnv, room_id: str | None
) -> TimerResult:
    """At the room's reminder hour on the day after the last day for objections: the
    minutes approved, or their approval on the next agenda with the objections. Once per
    meeting: an approved meeting is no longer awaiting, an objected one has its item."""
    result = TimerResult()
    rooms_wanted = None if room_id is None else [room_id]
    for meeting in store.awaiting_approval(db, now - _LOOK_BACK, rooms_wanted):
        assert meeting.id is not None
        draft = draft_of(meeting)
        if draft is None or agenda_store.minutes_item(db, meeting.id) is not None:
            continue
        stored = rooms.get_settings(db, meeting.room_id)
        policy = policy_from_settings(stored, env.defaults)
        due = combine_local(draft.until + dt.timedelta(days=1), policy.hour, policy.tz)
        if due > now:
            result.later(due)
            continue
        lang = stored.get(LANGUAGE_KEY) or env.defaults.language
        until = format_date(draft.until, lang)
        objections = store.objections(db, [meeting.id])[meeting.id]
        if not objections:
            store.approve_minutes(db, meeting, now)
            key = f"minutes-approved:{meeting.id}"
            rich = i18n.t(
                lang, f"{_KEY}.minutes.approved_notice", number=meeting.number, until=until
            )
        else:
            key = f"minutes-objected:{meeting.id}"
            item = i18n.plain(lang, f"{_KEY}.minutes.agenda_item", number=meeting.number)
            agenda_store.put_minutes_on_agenda(db, meeting, text=item, at=now, key=key)
            names = env.members(meeting.room_id)
            lines = [
                i18n.t(
                    lang,
                    f"{_KEY}.minutes.objected_notice",
                    number=meeting.number,
                    until=until,
                    count=len(objections),
                )
            ]
            lines.extend(objection_lines(lang, objections, names))
            rich = Rich.join(lines)
        reply = Reply(rich, room_id=meeting.room_id, ref_kind=RefKind.MEETING, ref_id=meeting.id)
        result.effects.append(Timed(key, meeting.room_id, reply))
    return result


def objection_lines(
    lang: str, objections: Sequence[MinutesObjection], names: Mapping[str, str] | None
) -> list[Rich]:
    """ "• Anna Schmidt: „Punkt 3 fehlt“", one line per objection."""
    return [
        i18n.t(
            lang,
            f"{_KEY}.minutes.objection_line",
            name=display_name(o.user_id, names),
            reason=text(o.reason),
        )
        for o in objections
    ]
