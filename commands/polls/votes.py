"""Answers: native poll responses from any client, and `!stimme` for clients without polls.

Whatever cannot count (a closed or unknown poll, an unknown answer, a malformed event,
someone who is not asked) is ignored with a log line when it came as a poll event — the
client shows the member their own answer anyway — and answered when it came as a command.
"""

from __future__ import annotations

import logging
import re

from commands.core import i18n
from commands.core.context import Context
from commands.core.effects import Reply
from commands.core.errors import CommandError, UsageError
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.polls.common import (
    cast_vote,
    find_poll,
    is_open,
    number_label,
    still_a_member,
    valid_selection,
)
from storage import polls as store
from storage.models import Poll, PollKind, RefKind

log = logging.getLogger(__name__)

router = Router()

_SPLIT = re.compile(r"[,;\s]+")


@router.poll_response(RefKind.POLL)
def on_poll_response(ctx: Context, poll_id: int, answers: tuple[str, ...] | None) -> None:
    poll = store.get(ctx.db, poll_id)
    if poll is None or poll.kind == PollKind.SURVEY:
        return
    reason = _why_not_counted(ctx, poll)
    if reason is None:
        chosen = valid_selection(poll, answers)
        if chosen is None:
            reason = "malformed or unknown answer IDs"
        else:
            cast_vote(ctx, poll, chosen)
            return
    log.info("ignoring an answer to poll %s in %s: %s", poll_id, ctx.room_id, reason)
    return


def _why_not_counted(ctx: Context, poll: Poll) -> str | None:
    if not is_open(poll, ctx.now):
        return "the poll has ended"
    sent_to = ctx.extra.get("sent_to")
    if sent_to is not None:
        if sent_to != ctx.sender:
            return "the poll was sent to someone else"
        if not still_a_member(ctx, poll.room_id):
            return "the sender is no longer a member of the poll's room"
        return None
    if ctx.room_id != poll.room_id:
        return "the poll belongs to another room"
    if poll.anonymous:
        return "an anonymous poll is answered by direct message"
    if ctx.members is not None and ctx.sender not in ctx.members:
        return "the sender is not a member of the room"
    return None


def _choose(ctx: Context, poll: Poll, value: str) -> list[str]:
    answers = store.answers_of(poll)
    wanted = value.strip()
    if not wanted:
        raise UsageError("poll.vote_missing")
    by_text = [a.id for a in answers if a.text.casefold() == wanted.casefold()]
    if by_text:
        return by_text
    chosen: list[str] = []
    for part in _SPLIT.split(wanted):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= len(answers):
            raise CommandError("poll.vote_out_of_range", value=part, count=len(answers))
        answer_id = answers[int(part) - 1].id
        if answer_id not in chosen:
            chosen.append(answer_id)
    if len(chosen) > poll.max_selections:
        raise CommandError("poll.vote_only_one")
    return chosen


@router.command("stimme", aliases=("vote",))
def vote(ctx: Context, args: str) -> Reply:
    poll, rest = find_poll(ctx, args)
    if poll.kind == PollKind.SURVEY:
        raise CommandError("poll.no_such", number=f"#{poll.number}")
    if not is_open(poll, ctx.now):
        raise CommandError("poll.vote_closed", number=number_label(poll))
    if poll.anonymous:
        raise CommandError("poll.vote_anonymous", number=number_label(poll))
    chosen = _choose(ctx, poll, rest)
    first = cast_vote(ctx, poll, chosen)
    names = {a.id: a.text for a in store.answers_of(poll)}
    shown = Rich.join([text(names[c]) for c in chosen], ", ")
    key = "poll.vote_counted" if first else "poll.vote_changed"
    return Reply(
        i18n.t(ctx.lang, key, number=number_label(poll), answer=shown),
        in_reply_to=ctx.event_id,
    )
