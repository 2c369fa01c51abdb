"""Reactions on the bot's own messages (✅ on a confirmation marks it done, …).

A feature's router declares which reaction keys act on which kind of bot message
(`@router.reaction("agreement", {"✅"})`); the bot layer finds the message's kind and
object (ref_kind, ref_id) in its outbox and the registry runs the matching rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from commands.core.context import Context
from commands.core.effects import HandlerResult

# (context of the reaction, the key as sent, the id of the object the message is about)
ReactionHandler = Callable[[Context, str, int], HandlerResult | None]


@dataclass(frozen=True)
class ReactionRule:
    ref_kind: str
    keys: frozenset[str]
    handler: ReactionHandler

    def matches(self, ref_kind: str, key: str) -> bool:
        return ref_kind == self.ref_kind and normalise_key(key) in self.keys


def normalise_key(key: str) -> str:
    # Clients add or drop the emoji variation selector (U+FE0F) at will.
    return key.replace("\ufe0f", "").strip()


# (context of the answer, the id of the poll the answered message is about, the answer IDs
# as sent — None when the client sent none or a malformed list)
PollResponseHandler = Callable[[Context, int, tuple[str, ...] | None], HandlerResult | None]


@dataclass(frozen=True)
class PollResponseRule:
    """What an answer to one of the bot's native polls about a `ref_kind` object does."""

    ref_kind: str
    handler: PollResponseHandler


# (context of the message, the id of the object the answered bot message is about, the text)
TextReplyHandler = Callable[[Context, int, str], HandlerResult | None]


@dataclass(frozen=True)
class TextReplyRule:
    """What a plain (non-command) answer to a bot message about a `ref_kind` object does,
    e.g. a member's free-text answer to a survey question in their direct-message room."""

    ref_kind: str
    handler: TextReplyHandler
