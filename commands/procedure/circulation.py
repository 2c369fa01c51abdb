"""`!umlauf <Antrag> [bis <wann>]`: a decision by circulation (Umlaufverfahren).

The motion goes to the room as a disclosed poll (Ja, Nein, Enthaltung, Widerspruch gegen
das Umlaufverfahren) that mentions every voting member; the deadline is the rules'
period unless a shorter one is named. Only voting members' votes count (anyone else is
told once why not); a changed vote replaces the earlier one. A single objection ends it
at once; otherwise it ends as soon as every voting member has voted, or at the deadline
(a timer). The result is announced with the rule applied (engine.circulation); a passed
motion becomes a numbered Beschluss, a failed one an item of the next meeting's agenda.

Votes are stored as every poll's are, under the keyed hash of poll and voter; the bot
computes the voting members' hashes to tell who has voted, and the chair's vote on a tie.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.effects import AnyEffect, PollAnswer, PollEnd, PollStart, Reply
from commands.core.errors import CommandError
from commands.core.names import name_list, pills
from commands.core.registry import Router, fold
from commands.core.rich import Rich, text
from commands.core.room import chairs, room_language, room_timezone
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.core.when import combine_local
from commands.parsing.dates import format_datetime, parse_when, split_deadline
from commands.polls.common import cast_vote, start_key, valid_selection
from commands.polls.config import poll_settings
from commands.procedure.common import room_rules
from commands.procedure.decisions import (
    beschluss,
    check_motion,
    give_number,
    outcome_text,
    voting_now,
)
from commands.procedure.describe import majority_text, threshold_text, verdict_text
from commands.procedure.engine import Outcome, Rules, Votes, circulation
from storage import decisions as store
from storage import polls as poll_store
from storage.models import Decision, DecisionKind, DecisionOutcome, Poll, PollKind, RefKind
from storage.voters import voter_hash

log = logging.getLogger(__name__)

router = Router()

_KEY = "procedure_decisions.circulation"
YES, NO, ABSTAIN, OBJECTION = "yes", "no", "abstain", "objection"
ANSWERS = (YES, NO, ABSTAIN, OBJECTION)
# A deadline without a time of day runs to the end of that day.
_END_OF_DAY = dt.time(23, 59)
# A plain reply to the circulation's message (clients without polls), folded.
_TEXT_ANSWERS: dict[str, str] = {
    **dict.fromkeys(("ja", "yes", "dafuer"), YES),
    **dict.fromkeys(("nein", "no", "dagegen"), NO),
    **dict.fromkeys(("enthaltung", "enthalten", "ich enthalte mich", "abstain"), ABSTAIN),
    **dict.fromkeys(
        (
            "widerspruch",
            "widerspruch gegen das umlaufverfahren",
            "objection",
            "objection to deciding by circulation",
        ),
        OBJECTION,
    ),
}


class _Ended:
    """How a circulation ended (`how_ended.<value>` in the catalogue)."""

    EVERYONE = "everyone"
    DEADLINE = "deadline"
    OBJECTION = "objection"


@dataclass(frozen=True)
class _Room:
    """What ending a circulation needs of its room."""

    db: Session
    lang: str
    tz: ZoneInfo
    rules: Rules
    # The room's chairs: their yes decides a tie where the rules say so.
    chairs: list[str]
    voter_key: bytes


def _room_of(ctx: Context) -> _Room:
    return _Room(
        ctx.db,
        ctx.lang,
        ctx.tz,
        room_rules(ctx.db, ctx.room_id, ctx.defaults),
        chairs(ctx.db, ctx.room_id, power_levels=ctx.power_levels, members=ctx.members),
        poll_settings(ctx.defaults).voter_key,
    )


# -------------------------------------------------------------------------------- start


def _deadline(ctx: Context, when_text: str | None, rules: Rules) -> dt.datetime:
    """The named deadline (end of that day without a time), refused when past or later
    than the rules' period allows; without one the last day of that period."""
    today = ctx.now.astimezone(ctx.tz).date()
    latest = combine_local(today + dt.timedelta(days=rules.circulation_days), _END_OF_DAY, ctx.tz)
    if when_text is None:
        return latest
    when = parse_when(when_text, now=ctx.now.astimezone(ctx.tz))
    if when is None:
        raise CommandError(f"{_KEY}.deadline_unclear", value=when_text.strip())
    moment = when.at(_END_OF_DAY, ctx.tz)
    if moment <= ctx.now:
        raise CommandError(f"{_KEY}.deadline_past", date=format_datetime(moment, ctx.lang))
    if moment > latest:
        raise CommandError(
            f"{_KEY}.deadline_too_far",
            date=format_datetime(moment, ctx.lang),
            days=rules.circulation_days,
            latest=format_datetime(latest, ctx.lang),
        )
    return moment


def rule_text(lang: str, rules: Rules, eligible: int) -> str:
    """The participation and majority a circulation needs, with this room's numbers."""
    return i18n.plain(
        lang,
        f"{_KEY}.rule",
        threshold=threshold_text(lang, rules.circulation_participation),
        needed=rules.circulation_participation.needed(eligible),
        eligible=eligible,
        majority=majority_text(lang, rules.majority),
    )


@router.command("umlauf", aliases=("circulation",), role=Role.CHAIR)
def start(ctx: Context, args: str) -> list[AnyEffect]:
    rules = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    local_now = ctx.now.astimezone(ctx.tz)
    motion_text, when_text = split_deadline(args, now=local_now)
    motion = check_motion(motion_text, empty=f"{_KEY}.empty", too_long=f"{_KEY}.too_long")
    deadline = _deadline(ctx, when_text, rules)
    voting = voting_now(ctx)
    if not voting:
        raise CommandError(f"{_KEY}.no_voters")
    answers = [
        poll_store.Answer(a, i18n.plain(ctx.lang, f"procedure_decisions.answer.{a}"))
        for a in ANSWERS
    ]
    poll, _created = poll_store.create(
        ctx.db,
        room_id=ctx.room_id,
        kind=PollKind.CIRCULATION,
        question=i18n.plain(ctx.lang, f"{_KEY}.question", motion=motion),
        answers=answers,
        created_by=ctx.sender,
        at=ctx.now,
        source_event_id=ctx.event_id,
        # Unnumbered: no `!stimme`, `!schließen` or `!ergebnis` of the polls reaches it.
        numbered=False,
    )
    decision, _created = store.create(
        ctx.db,
        Decision(
            room_id=ctx.room_id,
            kind=DecisionKind.CIRCULATION,
            outcome=DecisionOutcome.RUNNING,
            text=motion,
            poll_id=poll.id,
            deadline=deadline,
            eligible=len(voting),
            rule=rule_text(ctx.lang, rules, len(voting)),
            created_by=ctx.sender,
            created_at=ctx.now,
            source_event_id=ctx.event_id,
        ),
    )
    return _started(ctx, decision, poll, voting)


def _started(ctx: Context, d: Decision, poll: Poll, voting: list[str]) -> list[AnyEffect]:
    assert d.deadline is not None
    answers = poll_store.answers_of(poll)
    fallback = [poll.question, *(f"{i}. {a.text}" for i, a in enumerate(answers, 1))]
    fallback.append(i18n.plain(ctx.lang, f"{_KEY}.fallback"))
    poll_start = PollStart(
        key=start_key(poll),
        room_id=ctx.room_id,
        ref_kind=RefKind.DECISION,
        ref_id=d.id,
        question=poll.question,
        answers=tuple(PollAnswer(a.id, a.text) for a in answers),
        disclosed=True,
        fallback=text("\n".join(fallback)),
    )
    announcement = i18n.t(
        ctx.lang,
        f"{_KEY}.started",
        motion=text(d.text),
        until=format_datetime(d.deadline.astimezone(ctx.tz), ctx.lang),
        count=len(voting),
        members=pills(voting, ctx.members),
        rule=text(d.rule or ""),
    )
    # Not a notice: every voting member is mentioned and must be notified.
    reply = Reply(
        announcement,
        room_id=ctx.room_id,
        in_reply_to=ctx.event_id,
        notice=False,
        key=f"decision:{d.id}:started",
        ref_kind=RefKind.DECISION,
        ref_id=d.id,
    )
    return [poll_start, reply]


# -------------------------------------------------------------------------------- votes


@router.poll_response(RefKind.DECISION)
def on_poll_response(
    ctx: Context, decision_id: int, answers: tuple[str, ...] | None
) -> list[AnyEffect]:
    found = _circulation_of(ctx, decision_id)
    if found is None:
        return []
    decision, poll = found
    chosen = valid_selection(poll, answers)
    if chosen is None:
        log.info("ignoring an answer to decision %s: malformed or unknown answer", decision_id)
        return []
    return _vote(ctx, decision, poll, chosen[0], by_text=False)


@router.text_reply(RefKind.DECISION)
def on_text_reply(ctx: Context, decision_id: int, body: str) -> list[AnyEffect]:
    """A plain "Ja"/"Nein"/"Enthaltung"/"Widerspruch" answering the circulation's message
    (a client without polls); any other reply is conversation."""
    answer = _TEXT_ANSWERS.get(" ".join(fold(body).strip(" .!").split()))
    if answer is None:
        return []
    found = _circulation_of(ctx, decision_id)
    if found is None:
        return []
    decision, poll = found
    return _vote(ctx, decision, poll, answer, by_text=True)


def _circulation_of(ctx: Context, decision_id: int) -> tuple[Decision, Poll] | None:
    decision = store.get(ctx.db, decision_id)
    if decision is None or decision.kind != DecisionKind.CIRCULATION or decision.poll_id is None:
        return None
    if decision.room_id != ctx.room_id:
        log.info("ignoring an answer to decision %s from another room", decision_id)
        return None
    poll = poll_store.get(ctx.db, decision.poll_id)
    return None if poll is None else (decision, poll)


def _vote(ctx: Context, d: Decision, poll: Poll, answer: str, *, by_text: bool) -> list[AnyEffect]:
    effects: list[AnyEffect] = []
    name = pills([ctx.sender], ctx.members)
    in_reply_to = ctx.event_id if by_text else None
    if d.outcome == DecisionOutcome.RUNNING and d.deadline is not None and d.deadline <= ctx.now:
        # The deadline passed before the timer came: it ends as it stood then.
        effects += _finish(_room_of(ctx), d, poll, at=d.deadline, how=_Ended.DEADLINE)
    if d.outcome != DecisionOutcome.RUNNING:
        late = "objection_late" if answer == OBJECTION else "ended"
        effects.append(
            Reply(
                i18n.t(
                    ctx.lang,
                    f"{_KEY}.{late}",
                    name=name,
                    motion=text(d.text),
                    outcome=outcome_text(ctx.lang, d.outcome),
                ),
                in_reply_to=in_reply_to,
                # Once per member and kind: changing a late vote is not answered again.
                key=f"decision:{d.id}:{late}:{ctx.sender}",
            )
        )
        return effects
    voting = voting_now(ctx)
    if ctx.sender not in voting:
        effects.append(
            Reply(
                i18n.t(
                    ctx.lang,
                    f"{_KEY}.not_voting",
                    name=name,
                    motion=text(d.text),
                    members=name_list(voting, ctx.members),
                ),
                in_reply_to=in_reply_to,
                key=f"decision:{d.id}:not-voting:{ctx.sender}",
            )
        )
        return effects
    cast_vote(ctx, poll, [answer])
    if len(voting) > d.eligible:
        # A voting member joined while it runs: they vote, and count among the eligible.
        d.eligible = len(voting)
        store.save(ctx.db, d)
    if by_text:
        shown = i18n.plain(ctx.lang, f"procedure_decisions.answer.{answer}")
        effects.append(
            Reply(
                i18n.t(ctx.lang, f"{_KEY}.counted", motion=text(d.text), answer=shown),
                in_reply_to=ctx.event_id,
            )
        )
    if answer == OBJECTION:
        effects += _finish(_room_of(ctx), d, poll, at=ctx.now, how=_Ended.OBJECTION)
        return effects
    assert poll.id is not None
    # Read once: whether everyone voted, and if so the count that ends it.
    by_voter = store.votes_by_voter(ctx.db, poll.id)
    if _everyone_voted(ctx, poll, voting, by_voter):
        room = _room_of(ctx)
        effects += _finish(room, d, poll, at=ctx.now, how=_Ended.EVERYONE, by_voter=by_voter)
    return effects


def _hash(key: bytes, poll: Poll, user_id: str) -> str:
    return voter_hash(key, f"poll:{poll.id}", user_id)


def _everyone_voted(
    ctx: Context, poll: Poll, voting: list[str], by_voter: Mapping[str, list[str]]
) -> bool:
    key = poll_settings(ctx.defaults).voter_key
    return bool(voting) and all(_hash(key, poll, u) in by_voter for u in voting)


# ---------------------------------------------------------------------------------- end


def _finish(
    room: _Room,
    d: Decision,
    poll: Poll,
    *,
    at: dt.datetime,
    how: str,
    by_voter: Mapping[str, list[str]] | None = None,
) -> list[AnyEffect]:
    """End the circulation: the verdict stored, a passed motion numbered, a failed one on
    the next agenda, the poll closed; its end and the announcement to send. `by_voter`:
    the poll's votes where the caller has read them already."""
    assert d.id is not None
    assert poll.id is not None
    if by_voter is None:
        by_voter = store.votes_by_voter(room.db, poll.id)
    counted = Counter(a for answers in by_voter.values() for a in answers)
    votes = Votes(counted[YES], counted[NO], counted[ABSTAIN])
    chair_answers = [by_voter.get(_hash(room.voter_key, poll, c)) or [] for c in room.chairs]
    chair_voted_yes = any(YES in a for a in chair_answers) and not any(
        NO in a for a in chair_answers
    )
    verdict = circulation(
        votes,
        d.eligible,
        room.rules,
        objection=counted[OBJECTION] > 0,
        chair_voted_yes=chair_voted_yes,
    )
    d.outcome = DecisionOutcome(verdict.outcome.value)
    d.yes, d.no, d.abstain = votes.yes, votes.no, votes.abstain
    d.participated = verdict.participated
    d.decided_at = at
    d.rule = verdict_text(room.lang, verdict, votes, room.rules).plain
    store.save(room.db, d)
    if verdict.passed:
        give_number(room.db, d, room.tz)
    else:
        store.put_on_agenda(room.db, d, at=at, key=f"decision:{d.id}:agenda")
    poll_store.close(room.db, poll, at=at, by=None)
    title = i18n.t(room.lang, f"{_KEY}.result_title", motion=text(d.text))
    if verdict.outcome is Outcome.PASSED:
        outcome = i18n.t(room.lang, f"{_KEY}.passed", beschluss=beschluss(room.lang, d))
    else:
        outcome = i18n.t(room.lang, f"{_KEY}.{verdict.outcome.value}")
    until = format_datetime(at.astimezone(room.tz), room.lang)
    lines = [title, i18n.t(room.lang, f"{_KEY}.how_ended.{how}", until=until), outcome]
    if verdict.outcome is not Outcome.OBJECTION:  # the line before names that rule
        lines.append(i18n.t(room.lang, f"{_KEY}.verdict", verdict=text(d.rule)))
    if not verdict.passed:
        lines.append(i18n.t(room.lang, f"{_KEY}.on_agenda"))
    return [
        PollEnd(
            key=f"poll:{poll.id}:end",
            room_id=d.room_id,
            poll_key=start_key(poll),
            results=Rich.join([title, outcome]),
            ref_kind=RefKind.DECISION,
            ref_id=d.id,
        ),
        Reply(
            Rich.join(lines),
            room_id=d.room_id,
            key=f"decision:{d.id}:result",
            notice=False,
            ref_kind=RefKind.DECISION,
            ref_id=d.id,
        ),
    ]


@router.timer("circulation-deadlines")
def end_due(s: Session, now: dt.datetime, env: TimerEnv, room_id: str | None) -> TimerResult:
    """End every circulation whose deadline has come, once (the decision's outcome is
    stored in the transaction that queues the announcement)."""
    result = TimerResult()
    for d in store.due(s, now, room_id):
        poll = poll_store.get(s, d.poll_id) if d.poll_id is not None else None
        if poll is None or d.deadline is None:
            log.error("circulation %s in %s has no poll or deadline", d.id, d.room_id)
            continue
        room = _Room(
            s,
            room_language(s, d.room_id, env.defaults.language),
            room_timezone(s, d.room_id, env.defaults.timezone),
            room_rules(s, d.room_id, env.defaults),
            chairs(
                s,
                d.room_id,
                power_levels=env.power_levels(d.room_id),
                members=env.members(d.room_id) or None,
            ),
            poll_settings(env.defaults).voter_key,
        )
        for effect in _finish(room, d, poll, at=d.deadline, how=_Ended.DEADLINE):
            assert effect.key is not None
            result.effects.append(Timed(effect.key, d.room_id, effect))
    result.later(store.next_deadline(s, room_id))
    return result
