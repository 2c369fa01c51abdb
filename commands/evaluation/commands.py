"""`!auswertung`: start the annual survey (`starten`), end it early (`beenden`), record or
list the measures taken on it (`maßnahme …`, `maßnahmen`), or show the committee's
evaluation, in the chat or as a PDF to file (`pdf [alle] [zeitraum]`).

The PDF is made after the command by the file job EVALUATION_PDF_JOB, off the database
thread (commands.papers.evaluation declares it); the command checks who asks and for
what, so that a wrong period or role is answered at once."""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.effects import AnyEffect, LaterFile, Reply
from commands.core.errors import CommandError, PermissionDenied
from commands.core.file_jobs import PDF_MIMETYPE, FileJob, file_name
from commands.core.registry import Router
from commands.core.room_names import room_label
from commands.core.timers import TimerEnv, TimerResult
from commands.evaluation import measures, report, survey
from commands.parsing.date_words import fold
from commands.parsing.periods import period_label
from commands.polls.common import still_a_member
from storage import polls as poll_store
from storage import rooms
from storage import surveys as survey_store
from storage.figures.period import Period
from storage.models import PollKind, RefKind

log = logging.getLogger(__name__)

router = Router()

_START = frozenset({"starten", "start"})
_END = frozenset({"beenden", "end"})
# Folded: "Maßnahme" = "massnahme".
_MEASURE = frozenset({"massnahme", "measure"})
_MEASURES = frozenset({"massnahmen", "measures"})
# `!auswertung pdf [alle] [zeitraum]`, or the word last: `!auswertung 2025 pdf`.
PDF_WORD = "pdf"
# The file job that makes the PDF (declared in commands.papers.evaluation).
EVALUATION_PDF_JOB = "evaluation-pdf"
_K = "papers_reports.evaluation."


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
    if word == PDF_WORD:
        return [evaluation_pdf(ctx, rest)]
    words = args.split()
    if len(words) > 1 and fold(words[-1]) == PDF_WORD:
        return [evaluation_pdf(ctx, " ".join(words[:-1]))]
    return report.report(ctx, args)


def evaluation_pdf(ctx: Context, args: str) -> LaterFile:
    """The evaluation as a PDF for the room (`alle`: of every committee), for the same
    people and period as the chat's report; a CommandError for a period that cannot be
    read or the wrong role."""
    value = args.strip()
    head, _, rest = value.partition(" ")
    every = fold(head) in report.ALL_WORDS
    if every:
        if ctx.role < Role.COORDINATION:
            raise PermissionDenied("permission.needs_coordination")
        if not rooms.committee_rooms(ctx.db):  # asked in a direct message: nothing to file
            raise CommandError("evaluation_report.all_none")
        value = rest
    elif ctx.role < Role.CHAIR:
        raise PermissionDenied("permission.needs_chair")
    period = report.period_of(ctx, value)
    return evaluation_file(
        ctx.db,
        None if every else ctx.room_id,
        period,
        ctx.lang,
        now=ctx.now,
        default_tz=ctx.defaults.timezone,
    )


def evaluation_file(
    db: Session,
    room_id: str | None,
    period: Period,
    lang: str,
    *,
    now: dt.datetime,
    default_tz: str,
) -> LaterFile:
    """The evaluation PDF of `room_id` (None: every committee) for `period`, made later by
    the file job: what `!auswertung pdf` sends and the dashboard's download orders. Who
    may have it is the caller's to check."""
    name = period_label(lang, period)
    kind = i18n.plain(lang, _K + "filename")
    if room_id is None:
        filename = file_name(
            kind, i18n.plain(lang, _K + "filename_all"), period.label, extension="pdf"
        )
        caption = i18n.t(lang, _K + "caption_all", period=name)
    else:
        # Named by the room's name, or its ID (unnamed rooms' labels would all be alike).
        filename = file_name(kind, rooms.room_label(db, room_id), period.label, extension="pdf")
        caption = i18n.t(lang, _K + "caption", period=name, room=room_label(db, room_id, lang))
    params = {
        "room": room_id,
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "kind": str(period.kind),
        "lang": lang,
        # The rooms' own zones are read from the database; this one where none is set.
        "default_tz": default_tz,
        "now": now.isoformat(),
    }
    return LaterFile(
        filename=filename,
        mimetype=PDF_MIMETYPE,
        job=FileJob(EVALUATION_PDF_JOB, params, lang=lang),
        caption=caption,
    )


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
