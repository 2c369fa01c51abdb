"""Ending polls: at their deadline (a timer) or with `!schließen`; `!ergebnis` at any time."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from commands.core.context import Context
from commands.core.effects import AnyEffect, Reply
from commands.core.errors import CommandError, PermissionDenied
from commands.core.registry import Router
from commands.core.room import room_language, room_timezone
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.polls.common import (
    end_effects,
    find_poll,
    is_open,
    may_close,
    number_label,
    results_text,
)
from storage import polls as store
from storage.models import PollKind

router = Router()


@router.command("schließen", aliases=("close",))
def close(ctx: Context, args: str) -> list[AnyEffect]:
    poll, _rest = find_poll(ctx, args)
    if poll.kind == PollKind.SURVEY:
        raise CommandError("poll.no_such", number=f"#{poll.number}")
    if not is_open(poll, ctx.now):
        raise CommandError("poll.already_closed", number=number_label(poll))
    if not may_close(ctx, poll):
        raise PermissionDenied("poll.may_not_close", creator=ctx.display_name(poll.created_by))
    store.close(ctx.db, poll, at=ctx.now, by=ctx.sender)
    return end_effects(ctx.db, poll, ctx.lang, ctx.tz, ctx.now)


@router.command("ergebnis", aliases=("results",))
def results(ctx: Context, args: str) -> Reply:
    poll, _rest = find_poll(ctx, args)
    return Reply(results_text(ctx.db, poll, ctx.lang, ctx.tz, ctx.now), in_reply_to=ctx.event_id)


@router.timer("poll-deadlines")
def close_due(s: Session, now: dt.datetime, env: TimerEnv, room_id: str | None) -> TimerResult:
    """Close every poll whose deadline has come and send its end; a restart repeats
    nothing (the poll is closed in the same transaction that queues its end)."""
    result = TimerResult()
    for poll in store.due_to_close(s, now, room_id):
        if poll.kind == PollKind.SURVEY:
            continue  # a survey's statements end with the survey
        assert poll.closes_at is not None
        store.close(s, poll, at=poll.closes_at, by=None)
        lang = room_language(s, poll.room_id, env.defaults.language)
        tz = room_timezone(s, poll.room_id, env.defaults.timezone)
        for effect in end_effects(s, poll, lang, tz, now):
            assert effect.key is not None
            result.effects.append(Timed(effect.key, poll.room_id, effect))
    result.later(store.next_close(s, room_id, kinds=(PollKind.PULSE, PollKind.GENERAL)))
    return result
