"""What the poll commands share: finding poll N, counting, the texts of a poll and its end."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.effects import AnyEffect, PollAnswer, PollEnd, PollStart, Reply
from commands.core.errors import CommandError, UsageError
from commands.core.rich import Rich, bold, text
from commands.parsing.dates import format_datetime
from commands.polls.config import poll_settings
from storage import outbox
from storage import polls as store
from storage.models import OutboxKind, Poll, PollKind, RefKind
from storage.voters import voter_hash

log = logging.getLogger(__name__)

# Fewer answers than this are shown as a count only: a breakdown of two answers tells
# each of the two what the other answered.
MIN_BREAKDOWN = 3
MAX_ANSWERS = 20
QUESTION_LIMIT = 500
ANSWER_LIMIT = 200
PULSE_SCALE = tuple(str(i) for i in range(1, 6))

_NUMBER = re.compile(r"#?([0-9]{1,9})[.:,]?$")


# ------------------------------------------------------------------------------ finding


def number_label(poll: Poll) -> Rich:
    return bold(f"#{poll.number}") if poll.number is not None else bold(f"#{poll.id}")


def parse_number(value: str) -> int | None:
    m = _NUMBER.match(value.strip())
    return int(m.group(1)) if m else None


def find_poll(ctx: Context, args: str) -> tuple[Poll, str]:
    """Poll N of this room (the latest without a number) and the words after N."""
    head, _, rest = args.strip().partition(" ")
    number = parse_number(head) if head else None
    if number is None:
        if head and head[0].isdigit():
            raise CommandError("poll.not_a_number", value=head)
        replied = _replied_poll(ctx)
        if replied is not None:
            return replied, args.strip()
        poll = store.latest(ctx.db, ctx.room_id)
        if poll is None:
            raise CommandError("poll.none_yet", cmd=command_hint(ctx, "puls", "pulse"))
        return poll, args.strip()
    found = store.by_number(ctx.db, ctx.room_id, number)
    if found is None:
        raise CommandError("poll.no_such", number=f"#{number}")
    return found, rest.strip()


def _replied_poll(ctx: Context) -> Poll | None:
    """A command replying to the bot's message about a poll means that poll, not the
    latest; one of another room is refused."""
    if ctx.extra.get("ref_kind") != RefKind.POLL or ctx.extra.get("ref_id") is None:
        return None
    poll = store.get(ctx.db, int(ctx.extra["ref_id"]))
    if poll is None:
        return None
    if poll.room_id != ctx.room_id:
        raise CommandError("poll.other_room")
    return poll


def may_close(ctx: Context, poll: Poll) -> bool:
    return ctx.sender == poll.created_by or ctx.role >= Role.CHAIR


def is_open(poll: Poll, now: dt.datetime) -> bool:
    return poll.closed_at is None and (poll.closes_at is None or now < poll.closes_at)


def still_a_member(ctx: Context, room_id: str) -> bool:
    """Whether the sender of an answer by direct message is a member of the committee
    room `room_id` now (joined or invited): who has left it answers no more. The bot puts
    its rooms' members into `ctx.extra["members_of"]` for every answer to one of its
    messages; where it does not, only the answer's own room is known and nobody in
    another room counts."""
    lookup = ctx.extra.get("members_of")
    if callable(lookup):
        return ctx.sender in lookup(room_id)
    return room_id == ctx.room_id and ctx.members is not None and ctx.sender in ctx.members


# ------------------------------------------------------------------------------ answers


def pulse_answers(lang: str) -> list[store.Answer]:
    return [store.Answer(i, i18n.plain(lang, f"poll.pulse_scale.{i}")) for i in PULSE_SCALE]


def check_question(value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise UsageError("poll.empty_question")
    if len(cleaned) > QUESTION_LIMIT:
        raise CommandError("poll.question_too_long", length=len(cleaned), limit=QUESTION_LIMIT)
    return cleaned


def cast_vote(ctx: Context, poll: Poll, answers: Sequence[str]) -> bool:
    """Store the sender's answer under their keyed hash; True when it is their first."""
    assert poll.id is not None
    key = poll_settings(ctx.defaults).voter_key
    voter = voter_hash(key, f"poll:{poll.id}", ctx.sender)
    return store.record_vote(ctx.db, poll.id, voter, list(answers)[: poll.max_selections])


def valid_selection(poll: Poll, answers: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """What a poll response votes for; None when it is malformed or names unknown answers."""
    if not answers:
        return None
    known = {a.id for a in store.answers_of(poll)}
    if any(a not in known for a in answers):
        return None
    return tuple(dict.fromkeys(answers))[: poll.max_selections]


# ------------------------------------------------------------------------------ results


def breakdown_shown(poll: Poll, tally: store.Tally, now: dt.datetime) -> bool:
    """Whether the counts per answer may be shown at `now`: only from MIN_BREAKDOWN
    answers on, and a pulse's (undisclosed) only once it has ended."""
    ended = not is_open(poll, now)
    return tally.voters >= MIN_BREAKDOWN and (ended or poll.kind == PollKind.GENERAL)


def results_text(db: Session, poll: Poll, lang: str, tz: ZoneInfo, now: dt.datetime) -> Rich:
    """Counts per answer and the total (a pulse: the mean too); a count only below
    MIN_BREAKDOWN answers, and while an undisclosed pulse runs."""
    tally = store.tally(db, poll)
    kind_key = "poll.kind.pulse" if poll.kind == PollKind.PULSE else "poll.kind.general"
    head = i18n.t(
        lang,
        "poll.results_title",
        kind=i18n.plain(lang, kind_key),
        number=number_label(poll),
        question=text(poll.question),
    )
    lines: list[Rich] = [head]
    running = is_open(poll, now)
    if running and poll.kind == PollKind.PULSE:
        until = format_datetime(poll.closes_at.astimezone(tz), lang) if poll.closes_at else "—"
        lines.append(i18n.t(lang, "poll.results_undisclosed", voters=tally.voters, until=until))
        return Rich.join(lines)
    if not breakdown_shown(poll, tally, now):
        lines.append(i18n.t(lang, "poll.results_too_few", voters=tally.voters, min=MIN_BREAKDOWN))
        return Rich.join(lines)
    for answer in store.answers_of(poll):
        count = tally.counts.get(answer.id, 0)
        share = round(100 * count / tally.voters)
        lines.append(
            i18n.t(lang, "poll.results_line", answer=text(answer.text), count=count, share=share)
        )
    lines.append(i18n.t(lang, "poll.results_total", voters=tally.voters))
    if poll.kind == PollKind.PULSE and tally.mean is not None:
        lines.append(i18n.t(lang, "poll.results_mean", mean=i18n.decimal(tally.mean, lang)))
    if running:
        lines.append(i18n.t(lang, "poll.results_running"))
    return Rich.join(lines)


# ------------------------------------------------------------------------------ effects


def start_key(poll: Poll, user_id: str | None = None) -> str:
    return f"poll:{poll.id}:start" if user_id is None else f"poll:{poll.id}:to:{user_id}"


def poll_start(poll: Poll, lang: str, *, to_user: str | None = None) -> PollStart:
    answers = store.answers_of(poll)
    lines = [poll.question, *(f"{i}. {a.text}" for i, a in enumerate(answers, 1))]
    if to_user is None and poll.number is not None:
        vote = "vote" if lang == "en" else "stimme"
        lines.append(i18n.plain(lang, "poll.fallback_vote", cmd=f"!{vote} {poll.number} 1"))
    return PollStart(
        key=start_key(poll, to_user),
        to_user=to_user,
        room_id=None if to_user is not None else poll.room_id,
        ref_kind=RefKind.POLL,
        ref_id=poll.id,
        question=poll.question,
        answers=tuple(PollAnswer(a.id, a.text) for a in answers),
        disclosed=poll.kind == PollKind.GENERAL,
        max_selections=poll.max_selections,
        fallback=text("\n".join(lines)),
    )


def end_effects(
    db: Session, poll: Poll, lang: str, tz: ZoneInfo, now: dt.datetime
) -> list[AnyEffect]:
    """The poll end event(s) with the results; an anonymous pulse's totals go to its room
    as a message, its end to each member's direct-message room."""
    results = results_text(db, poll, lang, tz, now)
    if not poll.anonymous:
        return [
            PollEnd(
                key=f"poll:{poll.id}:end",
                room_id=poll.room_id,
                poll_key=start_key(poll),
                results=results,
                ref_kind=RefKind.POLL,
                ref_id=poll.id,
            )
        ]
    assert poll.id is not None
    effects: list[AnyEffect] = [
        PollEnd(
            key=f"poll:{poll.id}:end:{row.to_user}",
            to_user=row.to_user,
            poll_key=start_key(poll, row.to_user),
            results=results,
        )
        for row in outbox.rows_about(db, RefKind.POLL, poll.id)
        if row.to_user is not None and row.kind == OutboxKind.POLL_START
    ]
    effects.append(
        Reply(
            results,
            room_id=poll.room_id,
            key=f"poll:{poll.id}:results",
            ref_kind=RefKind.POLL,
            ref_id=poll.id,
        )
    )
    return effects
