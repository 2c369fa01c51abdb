"""The annual survey: `!auswertung starten` by the coordination; each member gets the
statements as native 1–5 polls in their direct-message room (the free-text question as a
message to answer), one reminder before the end and a thank-you; nobody can see anyone's
answers (votes under a keyed hash, participation apart from the answers).

The invitations, the reminder and the end are a timer's work: it knows every room's
members, which a command in one room does not (`!auswertung starten alle`).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.effects import AnyEffect, PollAnswer, PollEnd, PollStart, Reply
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.rich import Rich, code, text
from commands.core.room import room_language, room_timezone
from commands.core.room_names import room_label
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.core.when import combine_local
from commands.evaluation.config import evaluation_settings
from commands.parsing.dates import (
    format_date,
    format_datetime,
    parse_when,
    split_deadline,
)
from commands.polls.common import cast_vote, valid_selection
from commands.polls.config import poll_settings
from storage import outbox, rooms
from storage import polls as poll_store
from storage import surveys as store
from storage.figures.votes import NOT_JUDGED
from storage.figures.votes import SCALE as RATINGS
from storage.models import OutboxKind, Poll, PollKind, RefKind, Survey
from storage.voters import voter_hash

log = logging.getLogger(__name__)

COMMENT_LIMIT = 2000
# The answer IDs of a statement: the ratings as the read model decodes them.
SCALE = (*(str(i) for i in RATINGS), NOT_JUDGED)
_ALL = frozenset({"alle", "all"})
_END_OF_DAY = dt.time(23, 59)


def questionnaire(ctx_lang: str, defaults_statements: tuple[str, ...]) -> list[str]:
    if defaults_statements:
        return list(defaults_statements)
    found: list[str] = []
    while i18n.has(ctx_lang, f"evaluation.default.statement_{len(found) + 1}"):
        found.append(i18n.plain(ctx_lang, f"evaluation.default.statement_{len(found) + 1}"))
    return found


def _scale(lang: str) -> list[poll_store.Answer]:
    """1–5, then "cannot judge": whoever cannot judge a statement need not guess (the
    read model counts that answer apart, never in a mean, a rate or the minimum)."""
    return [poll_store.Answer(i, i18n.plain(lang, f"evaluation.scale.{i}")) for i in SCALE]


def latest_end(today: dt.date) -> dt.date:
    """The last day a survey started today may run to: the same day a year later (28
    February for a 29 February). A survey that runs for years blocks its room (one runs
    at a time), keeps every member's participation and delays the retention of its votes."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def _deadline(ctx: Context, words: str) -> dt.datetime | None:
    rest, when_text = split_deadline(words, now=ctx.now)
    if rest.strip():
        # "!auswertung starten 2999" must not start a survey of the default length.
        raise UsageError("evaluation.start_bad_args", value=rest.strip())
    if when_text is None:
        return None
    when = parse_when(when_text, now=ctx.now)
    if when is None:
        raise CommandError("evaluation.deadline_unclear", value=when_text)
    latest = latest_end(ctx.now.astimezone(ctx.tz).date())
    if when.date > latest:
        # Checked on the date before any arithmetic: "bis 31.12.2999" is refused, never stored.
        raise CommandError(
            "evaluation.deadline_too_far",
            date=format_date(when.date, ctx.lang),
            latest=format_date(latest, ctx.lang),
        )
    moment = when.at(_END_OF_DAY, ctx.tz)
    if moment - ctx.now < dt.timedelta(days=1):
        raise CommandError("evaluation.deadline_too_soon", date=format_datetime(moment, ctx.lang))
    return moment


def start(ctx: Context, args: str) -> Reply:
    """`!auswertung starten [bis <wann>] [alle]`: coordination only."""
    if ctx.role < Role.COORDINATION:
        raise PermissionDenied("permission.needs_coordination")
    words = args.split()
    everywhere = any(w.casefold() in _ALL for w in words)
    rest = " ".join(w for w in words if w.casefold() not in _ALL)
    conf = evaluation_settings(ctx.defaults)
    # Without an end named, the survey runs to the evening of its last day.
    last_day = (ctx.now + conf.duration).date()
    closes_at = _deadline(ctx, rest) or combine_local(last_day, _END_OF_DAY, ctx.tz)
    committees = [r.room_id for r in rooms.committee_rooms(ctx.db)]
    targets = committees if everywhere else [ctx.room_id]
    started: list[str] = []
    skipped: list[str] = []
    for room_id in targets:
        if store.running(ctx.db, room_id) is not None:
            skipped.append(room_id)
            continue
        _create(ctx, room_id, closes_at)
        started.append(room_id)
    if not started:
        if not everywhere:
            survey = store.running(ctx.db, ctx.room_id)
            assert survey is not None
            until = format_date(survey.closes_at.astimezone(ctx.tz).date(), ctx.lang)
            raise CommandError("evaluation.already_running", until=until)
        raise CommandError("evaluation.all_running")
    lines = [
        i18n.t(
            ctx.lang,
            "evaluation.started",
            year=ctx.now.year,
            rooms=", ".join(room_label(ctx.db, r, ctx.lang) for r in started),
            count=len(questionnaire(ctx.lang, conf.statements)),
            until=format_datetime(closes_at.astimezone(ctx.tz), ctx.lang),
        )
    ]
    if skipped:
        names = ", ".join(room_label(ctx.db, r, ctx.lang) for r in skipped)
        lines.append(i18n.t(ctx.lang, "evaluation.started_skipped", rooms=names))
    return Reply(Rich.join(lines), in_reply_to=ctx.event_id)


def end_early(ctx: Context, args: str) -> Reply:
    """`!auswertung beenden`: the coordination or whoever started it ends the room's
    running survey now. Only the end moment changes here; the survey timer, poked by this
    command's reply, then ends it as at its planned end (polls ended in the direct-message
    rooms, the participation told in the room) and the figures become visible."""
    if args.strip():
        raise UsageError("evaluation.end_bad_args", value=args.strip())
    survey = store.running(ctx.db, ctx.room_id)
    if survey is None or survey.closes_at <= ctx.now:
        raise CommandError("evaluation.end_none", cmd=command_for(ctx.lang))
    if ctx.role < Role.COORDINATION and ctx.sender != survey.started_by:
        raise PermissionDenied(
            "evaluation.may_not_end", starter=ctx.display_name(survey.started_by)
        )
    assert survey.id is not None
    survey.closes_at = ctx.now
    ctx.db.add(survey)
    for poll in store.statements(ctx.db, survey.id):
        poll.closes_at = ctx.now
        ctx.db.add(poll)
    key = "evaluation.ending"
    if survey.invited == 0:
        store.close(ctx.db, survey)  # nobody was asked yet: nothing to end in any DM room
        key = "evaluation.ended_unasked"
    ctx.db.flush()
    return Reply(i18n.t(ctx.lang, key, year=survey.year), in_reply_to=ctx.event_id)


def _create(ctx: Context, room_id: str, closes_at: dt.datetime) -> Survey:
    conf = evaluation_settings(ctx.defaults)
    lang = room_language(ctx.db, room_id, ctx.defaults.language)
    free = conf.free_question
    if free == "":
        free = i18n.plain(lang, "evaluation.default.free_question")
    survey, _created = store.create(
        ctx.db,
        room_id=room_id,
        year=ctx.now.year,
        started_by=ctx.sender,
        started_at=ctx.now,
        closes_at=closes_at,
        free_question=free,
        source_event_id=ctx.event_id,
    )
    for position, statement in enumerate(questionnaire(lang, conf.statements)):
        poll_store.create(
            ctx.db,
            room_id=room_id,
            kind=PollKind.SURVEY,
            question=statement,
            answers=_scale(lang),
            created_by=ctx.sender,
            at=ctx.now,
            closes_at=closes_at,
            source_event_id=f"{ctx.event_id}:{room_id}:survey:{position}",
            numbered=False,
            survey_id=survey.id,
            position=position,
        )
    return survey


# ------------------------------------------------------------------------------ answers


def _open(survey: Survey | None, now: dt.datetime) -> bool:
    return survey is not None and survey.closed_at is None and now < survey.closes_at


def on_statement_answer(ctx: Context, poll: Poll, answers: tuple[str, ...] | None) -> list[Reply]:
    """A member's 1–5 on one statement, from their direct-message room."""
    survey = store.get(ctx.db, poll.survey_id) if poll.survey_id is not None else None
    sent_to = ctx.extra.get("sent_to")
    chosen = valid_selection(poll, answers)
    if survey is None or not _open(survey, ctx.now) or sent_to != ctx.sender or chosen is None:
        log.info("ignoring an answer to survey statement %s in %s", poll.id, ctx.room_id)
        return []
    assert survey.id is not None
    if not cast_vote(ctx, poll, chosen):
        return []  # a changed answer: counted once already
    total = len(store.statements(ctx.db, survey.id))
    counted = store.count_answer(ctx.db, survey.id, ctx.sender, statements=total)
    if counted is None or not counted.thank_now:
        return []
    lang = room_language(ctx.db, survey.room_id, ctx.defaults.language)
    tz = room_timezone(ctx.db, survey.room_id, ctx.defaults.timezone)
    until = format_datetime(survey.closes_at.astimezone(tz), lang)
    thanks = i18n.t(lang, "evaluation.thanks", count=total, until=until)
    return [Reply(thanks, to_user=ctx.sender, key=f"survey:{survey.id}:thanks:{ctx.sender}")]


def on_free_text(ctx: Context, survey_id: int, body: str) -> Reply | None:
    survey = store.get(ctx.db, survey_id)
    if survey is None or ctx.extra.get("sent_to") != ctx.sender:
        log.info("ignoring a free-text answer to survey %s in %s", survey_id, ctx.room_id)
        return None
    if not _open(survey, ctx.now):
        raise CommandError("evaluation.comment_closed")
    cleaned = body.strip()
    if not cleaned:
        return None
    if len(cleaned) > COMMENT_LIMIT:
        raise CommandError("evaluation.comment_too_long", length=len(cleaned), limit=COMMENT_LIMIT)
    voter = voter_hash(poll_settings(ctx.defaults).voter_key, f"survey:{survey_id}", ctx.sender)
    first = store.save_comment(ctx.db, survey_id, voter, cleaned)
    key = "evaluation.comment_saved" if first else "evaluation.comment_changed"
    return Reply(i18n.t(ctx.lang, key), in_reply_to=ctx.event_id)


# ------------------------------------------------------------------------------ the timer


def run_surveys(s: Session, now: dt.datetime, env: TimerEnv, room_id: str | None) -> TimerResult:
    """Invite, remind once, end: everything due of the room's surveys, or of all on a
    full wake-up (a restart repeats nothing: each step is recorded in the transaction
    that queues its messages). Invitations are looked for in every room: `!auswertung
    starten alle` in one room starts surveys in all."""
    result = TimerResult()
    for survey in store.not_invited(s):
        _invite(s, survey, env, result)
    for survey in store.open_surveys(s, room_id):
        if survey.invited == 0:
            continue
        if now >= survey.closes_at:
            _end(s, survey, env, result)
            continue
        _remind(s, survey, now, env, result)
        result.later(survey.closes_at)
    return result


def _room_texts(s: Session, survey: Survey, env: TimerEnv) -> tuple[str, dt.tzinfo, str]:
    lang = room_language(s, survey.room_id, env.defaults.language)
    tz = room_timezone(s, survey.room_id, env.defaults.timezone)
    return lang, tz, format_datetime(survey.closes_at.astimezone(tz), lang)


def _invite(s: Session, survey: Survey, env: TimerEnv, result: TimerResult) -> None:
    members = sorted(u for u in env.members(survey.room_id) if u != env.bot_user)
    if not members:
        log.warning("survey %s: no members of %s known yet", survey.id, survey.room_id)
        result.later(survey.started_at + dt.timedelta(minutes=1))
        return
    store.invite(s, survey, members)
    lang, _tz, until = _room_texts(s, survey, env)
    room_name = room_label(s, survey.room_id, lang)
    statements = store.statements(s, survey.id or 0)
    for user in members:
        owed: list[AnyEffect] = [
            Reply(
                i18n.t(
                    lang,
                    "evaluation.intro",
                    room=text(room_name),
                    count=len(statements),
                    until=until,
                ),
                to_user=user,
                key=f"survey:{survey.id}:intro:{user}",
            )
        ]
        owed += [
            PollStart(
                key=f"survey:{survey.id}:q{poll.position}:to:{user}",
                to_user=user,
                ref_kind=RefKind.SURVEY_STATEMENT,
                ref_id=poll.id,
                question=poll.question,
                answers=tuple(PollAnswer(a.id, a.text) for a in poll_store.answers_of(poll)),
                disclosed=False,
                fallback=text(f"{poll.position + 1}/{len(statements)}: {poll.question}"),
            )
            for poll in statements
        ]
        if survey.free_question:
            owed.append(
                Reply(
                    i18n.t(lang, "evaluation.free_question", question=text(survey.free_question)),
                    to_user=user,
                    key=f"survey:{survey.id}:text:{user}",
                    ref_kind=RefKind.SURVEY_TEXT,
                    ref_id=survey.id,
                )
            )
        result.effects += [Timed(e.key or "", survey.room_id, e) for e in owed]
    sent = i18n.t(lang, "evaluation.sent", year=survey.year, count=len(members), until=until)
    key = f"survey:{survey.id}:sent"
    result.effects.append(Timed(key, survey.room_id, Reply(sent, room_id=survey.room_id, key=key)))


def _remind(
    s: Session, survey: Survey, now: dt.datetime, env: TimerEnv, result: TimerResult
) -> None:
    remind_at = survey.closes_at - evaluation_settings(env.defaults).remind_before
    if now < remind_at:
        result.later(remind_at)
        return
    assert survey.id is not None
    total = len(store.statements(s, survey.id))
    lang, _tz, until = _room_texts(s, survey, env)
    room_name = room_label(s, survey.room_id, lang)
    reminded: list[str] = []
    for who in store.participants(s, survey.id):
        if who.answered >= total or who.reminded:
            continue
        reminded.append(who.user_id)
        message = i18n.t(
            lang,
            "evaluation.reminder",
            room=text(room_name),
            until=until,
            answered=who.answered,
            count=total,
        )
        key = f"survey:{survey.id}:reminder:{who.user_id}"
        result.effects.append(
            Timed(key, survey.room_id, Reply(message, to_user=who.user_id, key=key, notice=False))
        )
    if reminded:
        store.mark_reminded(s, survey.id, reminded)


def _end(s: Session, survey: Survey, env: TimerEnv, result: TimerResult) -> None:
    assert survey.id is not None
    lang, _tz, _until = _room_texts(s, survey, env)
    ended = i18n.t(lang, "evaluation.ended_dm")
    for poll in store.statements(s, survey.id):
        assert poll.id is not None
        for row in outbox.rows_about(s, RefKind.SURVEY_STATEMENT, poll.id):
            if row.to_user is None or row.kind != OutboxKind.POLL_START:
                continue
            key = f"survey:{survey.id}:q{poll.position}:end:{row.to_user}"
            poll_key = f"survey:{survey.id}:q{poll.position}:to:{row.to_user}"
            end = PollEnd(key=key, to_user=row.to_user, poll_key=poll_key, results=ended)
            result.effects.append(Timed(key, survey.room_id, end))
    store.close(s, survey)
    message = i18n.t(
        lang,
        "evaluation.ended_room",
        year=survey.year,
        answered=store.answered_by(s, survey.id),
        invited=survey.invited,
        cmd=command_for(lang),
    )
    key = f"survey:{survey.id}:ended"
    result.effects.append(
        Timed(key, survey.room_id, Reply(message, room_id=survey.room_id, key=key))
    )


def command_for(lang: str) -> Rich:
    return code("!evaluation" if lang == "en" else "!auswertung")
