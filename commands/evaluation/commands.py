"""`!auswertung`: start the annual survey (`starten`), end it early (`beenden`), record or
list the measures taken on it (`maßnahme …`, `maßnahmen`), or show the committee's
evaluation."""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session

from commands.core.context import Context
from commands.core.effects import AnyEffect, Reply
from commands.core.registry import Router
from commands.core.timers import TimerEnv, TimerResult
from commands.evaluation import measures, report, survey
from commands.parsing.date_words import fold
from commands.polls.common import still_a_member
from storage import polls as poll_store
from storage import surveys as survey_store
from storage.models import PollKind, RefKind

log = logging.getLogger(__name__)

router = Router()

_START = frozenset({"starten", "start"})
_END = frozenset({"beenden", "end"})
# Folded: "Maßnahme" = "massnahme".
_MEASURE = frozenset({"massnahme", "measure"})
_MEASURES = frozenset({"massnahmen", "measures"})


@router.command("auswertung", aliases=("evaluation",))
def evaluation(ctx: Context, args: str) -> list[AnyEffect] | Reply:
    head, _, rest = args.strip().partition(" ")
    word = fold(head)
    if word in _START:
        return survey.start(ctx, rest)
    if word in _END:
        return survey.end_early(ctx, rest)
    if word in _MEASURE:
        # Without a text: what has been recorded, and how to record one.
        return measures.record(ctx, rest) if rest.strip() else measures.listing(ctx, None)
    if word in _MEASURES:
        return measures.listing_or_record(ctx, rest)
    return report.report(ctx, args)


@router.poll_response(RefKind.SURVEY_STATEMENT)
def statement_answered(
    ctx: Context, poll_id: int, answers: tuple[str, ...] | None
) -> list[Reply] | None:
    poll = poll_store.get(ctx.db, poll_id)
    if poll is None or poll.kind != PollKind.SURVEY:
        return None
    if not still_a_member(ctx, poll.room_id):
        log.info("ignoring an answer to survey statement %s: not a member of its room", poll.id)
        return None
    return survey.on_statement_answer(ctx, poll, answers)


@router.text_reply(RefKind.SURVEY_TEXT)
def free_text(ctx: Context, survey_id: int, body: str) -> Reply | None:
    asked = survey_store.get(ctx.db, survey_id)
    if asked is not None and not still_a_member(ctx, asked.room_id):
        log.info("ignoring a free-text answer to survey %s: not a member of its room", survey_id)
        return None
    return survey.on_free_text(ctx, survey_id, body)


@router.timer("surveys")
def surveys_due(s: Session, now: dt.datetime, env: TimerEnv, room_id: str | None) -> TimerResult:
    return survey.run_surveys(s, now, env, room_id)
