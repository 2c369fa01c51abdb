"""`!puls` (a 1–5 satisfaction pulse, also anonymous by direct message) and `!umfrage`."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, or_
from sqlmodel import col, select

from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.defaults import limits
from commands.core.effects import AnyEffect, Reply
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.registry import Router
from commands.core.rich import text
from commands.parsing.dates import (
    YEARS_AHEAD_LIMIT,
    format_datetime,
    parse_when,
    split_deadline,
    too_far_ahead,
)
from commands.polls.common import (
    ANSWER_LIMIT,
    MAX_ANSWERS,
    check_question,
    number_label,
    poll_start,
    pulse_answers,
)
from commands.polls.config import PollSettings, poll_settings
from storage import polls as store
from storage.models import Poll, PollKind, RefKind

router = Router()

_ANONYMOUS = frozenset({"anonym", "anonymous", "anon"})
_MULTIPLE = frozenset({"mehrfach", "mehrere", "multiple", "multi"})
_DEADLINE_SEGMENT = re.compile(r"^(bis|by|until)\s+", re.IGNORECASE)
# A poll without a time of day runs to the end of that day.
_END_OF_DAY = dt.time(23, 59)
# `polls.anonymous_pulses_per_day` counts the anonymous pulses started in this window.
_ANONYMOUS_WINDOW = dt.timedelta(hours=24)


def _deadline(ctx: Context, when_text: str) -> dt.datetime:
    when = parse_when(when_text, now=ctx.now)
    if when is None:
        raise CommandError("poll.deadline_unclear", value=when_text.strip())
    moment = when.at(_END_OF_DAY, ctx.tz)
    if moment <= ctx.now:
        raise CommandError("poll.deadline_past", date=format_datetime(moment, ctx.lang))
    if too_far_ahead(when.date, ctx.now.date()):
        raise CommandError(
            "poll.deadline_too_far",
            date=format_datetime(moment, ctx.lang),
            years=YEARS_AHEAD_LIMIT,
        )
    return moment


def _running(ctx: Context, *, creator: str | None = None) -> int:
    stmt = select(func.count()).where(
        Poll.room_id == ctx.room_id,
        col(Poll.kind).in_((PollKind.PULSE, PollKind.GENERAL)),
        col(Poll.closed_at).is_(None),
        or_(col(Poll.closes_at).is_(None), col(Poll.closes_at) > ctx.now),
    )
    if creator is not None:
        stmt = stmt.where(Poll.created_by == creator)
    return int(ctx.db.exec(stmt).one())


def _check_quota(ctx: Context) -> None:
    """Per member and per room at most so many polls and pulses running (config
    `limits:`); the answer names the limit and how to end one."""
    quota = limits(ctx.defaults)
    close = command_hint(ctx, "schließen", "close", "N")
    if quota.polls_per_member and _running(ctx, creator=ctx.sender) >= quota.polls_per_member:
        raise CommandError("limits.polls_member", limit=quota.polls_per_member, close=close)
    if quota.polls_per_room and _running(ctx) >= quota.polls_per_room:
        raise CommandError("limits.polls_room", limit=quota.polls_per_room, close=close)


def _check_anonymous(ctx: Context, settings: PollSettings) -> None:
    """`!puls anonym` sends every member of the room a direct message (and its end
    another): the chair's and coordination's right unless the config opens it to every
    member, and at most `anonymous_pulses_per_day` per member and room in 24 hours, closed
    ones included (else starting and closing in a loop floods everyone's direct messages).
    The answer over the limit says from when the next one is possible."""
    if ctx.role < Role.CHAIR and not settings.anonymous_pulse_members:
        raise PermissionDenied(
            "poll.anonymous_needs_chair", pulse=command_hint(ctx, "puls", "pulse")
        )
    limit = settings.anonymous_pulses_per_day
    if not limit:
        return
    since = ctx.now - _ANONYMOUS_WINDOW
    stmt = (
        select(Poll.created_at)
        .where(
            Poll.room_id == ctx.room_id,
            Poll.kind == PollKind.PULSE,
            col(Poll.anonymous).is_(True),
            Poll.created_by == ctx.sender,
            col(Poll.created_at) > since,
        )
        .order_by(col(Poll.created_at).desc())
        .limit(limit)
    )
    recent = list(ctx.db.exec(stmt))
    if len(recent) < limit:
        return
    # The oldest of the last `limit` leaves the window first.
    again = recent[-1] + _ANONYMOUS_WINDOW
    raise CommandError(
        "poll.anonymous_limit",
        limit=limit,
        again=format_datetime(again.astimezone(ctx.tz), ctx.lang),
    )


def _take_word(args: str, words: frozenset[str]) -> tuple[bool, str]:
    head, *rest = args.split(None, 1) or [""]
    if head.casefold() in words:
        return True, rest[0].strip() if rest else ""
    return False, args.strip()


def _started(ctx: Context, poll: Poll, effects: list[AnyEffect]) -> list[AnyEffect]:
    assert poll.closes_at is not None
    until = format_datetime(poll.closes_at.astimezone(ctx.tz), ctx.lang)
    if poll.anonymous:
        sent = sum(1 for e in effects if e.to_user is not None)
        key = "poll.started_anonymous"
    elif poll.kind == PollKind.PULSE:
        sent, key = 0, "poll.started_pulse"
    else:
        sent, key = 0, "poll.started"
    confirmation = i18n.t(
        ctx.lang,
        key,
        number=number_label(poll),
        question=text(poll.question),
        until=until,
        count=sent,
        anonymous=command_hint(ctx, "puls anonym", "pulse anonymous"),
        results=command_hint(ctx, "ergebnis", "results", poll.number),
        close=command_hint(ctx, "schließen", "close", poll.number),
    )
    reply = Reply(confirmation, in_reply_to=ctx.event_id, ref_kind=RefKind.POLL, ref_id=poll.id)
    return [*effects, reply]


@router.command("puls", aliases=("pulse",))
def pulse(ctx: Context, args: str) -> list[AnyEffect]:
    settings = poll_settings(ctx.defaults)
    anonymous, rest = _take_word(args, _ANONYMOUS)
    if anonymous:
        _check_anonymous(ctx, settings)
    _check_quota(ctx)
    question_text, when_text = split_deadline(rest, now=ctx.now)
    closes_at = (
        _deadline(ctx, when_text) if when_text is not None else ctx.now + settings.pulse_duration
    )
    question = question_text.strip() or settings.pulse_question
    question = check_question(question or i18n.plain(ctx.lang, "poll.pulse_question"))
    poll, _created = store.create(
        ctx.db,
        room_id=ctx.room_id,
        kind=PollKind.PULSE,
        question=question,
        answers=pulse_answers(ctx.lang),
        created_by=ctx.sender,
        at=ctx.now,
        closes_at=closes_at,
        anonymous=anonymous,
        source_event_id=ctx.event_id,
    )
    if anonymous:
        members = [u for u in (ctx.members or {}) if u != ctx.bot_user]
        if not members:
            raise CommandError("poll.no_members")
        effects: list[AnyEffect] = [poll_start(poll, ctx.lang, to_user=u) for u in sorted(members)]
    else:
        effects = [poll_start(poll, ctx.lang)]
    return _started(ctx, poll, effects)


@router.command("umfrage", aliases=("poll",))
def general(ctx: Context, args: str) -> list[AnyEffect]:
    settings = poll_settings(ctx.defaults)
    _check_quota(ctx)
    multiple, rest = _take_word(args, _MULTIPLE)
    # "|" is hard to find on a phone: without one, each line is a segment.
    segments = [s.strip() for s in rest.split("|" if "|" in rest else "\n")]
    closes_at: dt.datetime | None = None
    answers: list[str] = []
    for segment in segments[1:]:
        if segment.casefold() in _MULTIPLE:
            multiple = True
        elif _DEADLINE_SEGMENT.match(segment) and parse_when(segment, now=ctx.now) is not None:
            closes_at = _deadline(ctx, segment)
        elif segment:
            answers.append(" ".join(segment.split()))
    question_text, when_text = split_deadline(segments[0], now=ctx.now)
    if when_text is not None and closes_at is None:
        closes_at = _deadline(ctx, when_text)
    question = check_question(question_text)
    if len(answers) < 2:
        raise UsageError("poll.too_few_answers", count=len(answers))
    if len(answers) > MAX_ANSWERS:
        raise CommandError("poll.too_many_answers", count=len(answers), limit=MAX_ANSWERS)
    for answer in answers:
        if len(answer) > ANSWER_LIMIT:
            raise CommandError("poll.answer_too_long", length=len(answer), limit=ANSWER_LIMIT)
    if len({a.casefold() for a in answers}) < len(answers):
        raise CommandError("poll.duplicate_answers")
    poll, _created = store.create(
        ctx.db,
        room_id=ctx.room_id,
        kind=PollKind.GENERAL,
        question=question,
        answers=[store.Answer(f"a{i}", a) for i, a in enumerate(answers, 1)],
        created_by=ctx.sender,
        at=ctx.now,
        closes_at=closes_at or ctx.now + settings.poll_duration,
        max_selections=len(answers) if multiple else 1,
        source_event_id=ctx.event_id,
    )
    return _started(ctx, poll, [poll_start(poll, ctx.lang)])
