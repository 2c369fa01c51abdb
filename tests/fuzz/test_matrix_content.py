"""Hostile event content for the functions that read Matrix events (bot.runtime.matrix_content):
any JSON in any place, never an exception, always the declared types, and bounded output."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.runtime import matrix_content as mc
from commands.core.text_input import MAX_MENTIONS
from tests.fuzz.strategies import args, json_value, piece

# fmt: off
_KEYS = [
    "body", "formatted_body", "format", "msgtype", "m.mentions", "user_ids", "m.relates_to",
    "rel_type", "event_id", "m.in_reply_to", "is_falling_back", "m.new_content", "m.thread",
    "m.replace", "m.reference", "m.poll", "org.matrix.msc3381.poll.start", "m.poll.start",
    "question", "answers", "m.id", "id", "kind", "max_selections", "m.text",
    "org.matrix.msc1767.text", "org.matrix.msc1767.message", "mimetype", "m.selections",
    "org.matrix.msc3381.poll.response", "m.poll.response", "m.poll.results",
]
# fmt: on

# A content dict whose keys are those the readers look for, nested, with hostile values.
content: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(st.sampled_from(_KEYS), json_value | args, max_size=6),
    lambda inner: st.dictionaries(
        st.sampled_from(_KEYS), inner | st.lists(inner, max_size=4) | json_value, max_size=6
    ),
    max_leaves=12,
)
event_types = st.sampled_from(
    [*mc.POLL_START_TYPES, *mc.POLL_RESPONSE_TYPES, *mc.POLL_END_TYPES, "m.room.message"]
)


@given(content)
def test_reading_a_message_never_fails(c: dict[str, Any]) -> None:
    users = mc.mentioned_users(c)
    assert len(users) <= MAX_MENTIONS + 1
    assert all(isinstance(u, str) and u for u in users)
    for found in (mc.replied_to(c), mc.thread_root(c), mc.edited_event(c)):
        assert found is None or isinstance(found, str)
    assert isinstance(mc.text_of(c), str)


@given(event_types, content)
def test_reading_a_poll_event_never_fails(event_type: str, c: dict[str, Any]) -> None:
    start = mc.parse_poll_start(event_type, c)
    response = mc.parse_poll_response(event_type, c)
    end = mc.parse_poll_end(event_type, c)
    if start is not None:
        assert start.question
        assert 1 <= len(start.answers) <= mc.MAX_POLL_ANSWERS
        assert start.max_selections >= 1
    if response is not None:
        assert isinstance(response.start_event_id, str)
        assert response.answers is None or all(isinstance(a, str) for a in response.answers)
    if start is not None and response is not None:
        chosen = mc.selection(start, response)
        assert len(chosen) <= start.max_selections
        assert set(chosen) <= {a.id for a in start.answers}
    if end is not None:
        assert end.results is None or all(isinstance(v, int) for v in end.results.values())


@given(st.lists(st.one_of(piece, args, st.just("> "), st.just("\n")), max_size=30).map("".join))
def test_the_reply_fallback_is_only_ever_a_leading_quote(body: str) -> None:
    stripped = mc.strip_reply_fallback(body)
    assert body.endswith(stripped)
    if stripped != body:
        quote = body[: len(body) - len(stripped)]
        assert quote.startswith("> ")
        assert quote.endswith("\n\n")
        assert all(line.startswith("> ") for line in quote[:-2].split("\n"))
