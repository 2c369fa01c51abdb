"""Read Matrix event content: what the command layer needs from a message, and native polls.

Rendering (effects → content) lives in bot.runtime.matrix_render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from commands.core.effects import PollAnswer
from commands.core.text_input import MAX_MENTIONS

_PILL = re.compile(r"""href=["']https://matrix\.to/#/((?:@|%40)[^"'?/]{1,255})""")


def mentioned_users(content: dict[str, Any], limit: int = MAX_MENTIONS) -> tuple[str, ...]:
    """User IDs the sender's client marked: m.mentions first, then pills in the HTML.

    At most `limit` + 1 are read (enough for the command layer to refuse "too many"), so
    a message naming thousands costs no more than one naming a few.
    """
    found: dict[str, None] = {}
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        user_ids = mentions.get("user_ids")
        for uid in user_ids if isinstance(user_ids, list) else ():
            if len(found) > limit:
                return tuple(found)
            if isinstance(uid, str) and uid:
                found.setdefault(uid, None)
    html = content.get("formatted_body")
    if isinstance(html, str):
        for m in _PILL.finditer(html):
            if len(found) > limit:
                break
            found.setdefault(unquote(m[1]), None)
    return tuple(found)


def _relation(content: Mapping[str, Any]) -> Mapping[str, Any]:
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def replied_to(content: dict[str, Any]) -> str | None:
    """The event the sender explicitly answered.

    Inside a thread, clients add an `m.in_reply_to` to the thread's latest event for
    clients without thread support and mark it `is_falling_back`: that is no answer to
    that event, and a command must not act on whatever bot message it happens to name.
    """
    rel = _relation(content)
    if rel.get("rel_type") == "m.thread" and rel.get("is_falling_back") is True:
        return None
    inner = rel.get("m.in_reply_to")
    if isinstance(inner, dict) and isinstance(inner.get("event_id"), str):
        return str(inner["event_id"])
    return None


def thread_root(content: dict[str, Any]) -> str | None:
    """The root event of the thread a message was written in (None: the main timeline)."""
    rel = _relation(content)
    if rel.get("rel_type") == "m.thread" and isinstance(rel.get("event_id"), str):
        return str(rel["event_id"])
    return None


def strip_reply_fallback(body: str) -> str:
    """Older clients quote the replied-to message in the body; the command follows it.

    The quote is the leading lines that start with "> ", then one empty line. Found with
    plain string searches, linear in the body (a regular expression here backtracked on
    long quotes, for every message).
    """
    if not body.startswith("> "):
        return body
    end = body.find("\n\n")
    if end < 0:
        return body
    quote = body[:end]
    if quote.count("\n") != quote.count("\n> "):
        return body  # a line that is no quote before the empty one: no reply fallback
    return body[end + 2 :]


def edited_event(content: Mapping[str, Any]) -> str | None:
    """The event an edit (`m.replace`) replaces; None for a message that is no edit."""
    rel = _relation(content)
    if rel.get("rel_type") == "m.replace" and isinstance(rel.get("event_id"), str):
        return str(rel["event_id"])
    return None


# ---------------------------------------------------------------------------------------------
# Native polls (MSC3381). Element and matrix-js-sdk send the unstable names; the stable ones
# are read too. matrix-js-sdk's PollStartEvent/PollResponseEvent are the model for what is
# accepted: at most 20 answers, max_selections below 1 means 1, unknown kinds undisclosed.

POLL_START_TYPES = {"org.matrix.msc3381.poll.start": False, "m.poll.start": True}
POLL_RESPONSE_TYPES = {"org.matrix.msc3381.poll.response": False, "m.poll.response": True}
POLL_END_TYPES = {"org.matrix.msc3381.poll.end": False, "m.poll.end": True}
_DISCLOSED_KINDS = {"org.matrix.msc3381.poll.disclosed", "m.disclosed", "m.poll.disclosed"}
MAX_POLL_ANSWERS = 20


@dataclass(frozen=True)
class ParsedPollStart:
    question: str
    answers: tuple[PollAnswer, ...]
    disclosed: bool
    max_selections: int
    # The text clients without poll support show.
    fallback: str
    # Sent with the stable names (m.poll.*): responses and the end answer in the same form.
    stable: bool


@dataclass(frozen=True)
class ParsedPollResponse:
    start_event_id: str
    # None: a spoiled vote (no list of answer IDs); it still replaces the sender's earlier one.
    answers: tuple[str, ...] | None
    stable: bool


@dataclass(frozen=True)
class ParsedPollEnd:
    start_event_id: str
    text: str
    # The stable form may carry the counts by answer ID.
    results: dict[str, int] | None
    stable: bool


def text_of(obj: Any) -> str:
    """The plain text of an extensible-events text block, in any of the forms in use."""
    if not isinstance(obj, dict):
        return ""
    for key in ("m.text", "org.matrix.msc1767.text", "org.matrix.msc1767.message"):
        value = obj.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            bodies = [r for r in value if isinstance(r, dict) and isinstance(r.get("body"), str)]
            plain = [r for r in bodies if r.get("mimetype", "text/plain") == "text/plain"]
            if plain or bodies:
                return str((plain or bodies)[0]["body"])
    body = obj.get("body")
    return body if isinstance(body, str) else ""


def _poll_block(content: Mapping[str, Any], *keys: str) -> dict[str, Any] | None:
    for key in keys:
        block = content.get(key)
        if isinstance(block, dict):
            return block
    return None


def _reference(content: Mapping[str, Any]) -> str | None:
    rel = _relation(content)
    if rel.get("rel_type") == "m.reference" and isinstance(rel.get("event_id"), str):
        return str(rel["event_id"])
    return None


def parse_poll_start(event_type: str, content: dict[str, Any]) -> ParsedPollStart | None:
    """A poll start in either form; None when it is none or too broken to show."""
    if event_type not in POLL_START_TYPES:
        return None
    poll = _poll_block(content, "m.poll", "org.matrix.msc3381.poll.start", "m.poll.start")
    if poll is None:
        return None
    question = text_of(poll.get("question")).strip()
    answers: list[PollAnswer] = []
    raw_answers = poll.get("answers")
    for raw in raw_answers[:MAX_POLL_ANSWERS] if isinstance(raw_answers, list) else []:
        if not isinstance(raw, dict):
            continue
        answer_id = raw.get("m.id", raw.get("id"))
        text = text_of(raw).strip()
        known = any(a.id == answer_id for a in answers)
        if isinstance(answer_id, str) and answer_id and text and not known:
            answers.append(PollAnswer(answer_id, text))
    if not question or not answers:
        return None
    max_sel = poll.get("max_selections")
    if not isinstance(max_sel, int) or isinstance(max_sel, bool) or max_sel < 1:
        max_sel = 1
    return ParsedPollStart(
        question=question,
        answers=tuple(answers),
        disclosed=poll.get("kind") in _DISCLOSED_KINDS,
        max_selections=max_sel,
        fallback=text_of(content),
        stable=POLL_START_TYPES[event_type],
    )


def parse_poll_response(event_type: str, content: dict[str, Any]) -> ParsedPollResponse | None:
    if event_type not in POLL_RESPONSE_TYPES:
        return None
    start = _reference(content)
    if start is None:
        return None
    stable = POLL_RESPONSE_TYPES[event_type]
    selections: Any = content.get("m.selections")
    if selections is None:
        block = _poll_block(content, "org.matrix.msc3381.poll.response", "m.poll.response")
        selections = block.get("answers") if block is not None else None
    answers: tuple[str, ...] | None = None
    if isinstance(selections, list) and all(isinstance(a, str) for a in selections):
        answers = tuple(selections)
    return ParsedPollResponse(start_event_id=start, answers=answers, stable=stable)


def selection(poll: ParsedPollStart, response: ParsedPollResponse) -> tuple[str, ...]:
    """What a response votes for, as Element counts it: nothing when spoiled (no answers,
    an unknown answer ID), else at most `max_selections` answers."""
    if not response.answers:
        return ()
    known = {a.id for a in poll.answers}
    if any(a not in known for a in response.answers):
        return ()
    return response.answers[: poll.max_selections]


def parse_poll_end(event_type: str, content: dict[str, Any]) -> ParsedPollEnd | None:
    if event_type not in POLL_END_TYPES:
        return None
    start = _reference(content)
    if start is None:
        return None
    raw = content.get("m.poll.results")
    results = None
    if isinstance(raw, dict):
        results = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, int)}
    return ParsedPollEnd(
        start_event_id=start,
        text=text_of(content),
        results=results,
        stable=POLL_END_TYPES[event_type],
    )
