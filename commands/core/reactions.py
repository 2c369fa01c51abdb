"""Reactions on the bot's own messages (✅ on a confirmation marks it done, …).

A feature declares which reaction keys act on which kind of bot message; the bot layer
finds the message's kind and object (ref_kind, ref_id) from its outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from commands.core.context import Context
from commands.core.effects import Reply
from commands.core.registry import HandlerResult, Registry

ReactionHandler = Callable[[Context, str, int], HandlerResult | None]


@dataclass(frozen=True)
class ReactionRule:
    ref_kind: str
    keys: frozenset[str]
    handler: ReactionHandler


_RULES: list[ReactionRule] = []


def on_reaction(ref_kind: str, keys: set[str]) -> Callable[[ReactionHandler], ReactionHandler]:
    def register(handler: ReactionHandler) -> ReactionHandler:
        _RULES.append(ReactionRule(ref_kind, frozenset(_normalise(k) for k in keys), handler))
        return handler

    return register


def _normalise(key: str) -> str:
    # Clients add or drop the emoji variation selector (U+FE0F) at will.
    return key.replace("\ufe0f", "").strip()


def dispatch_reaction(ctx: Context, key: str, ref_kind: str, ref_id: int) -> list[Reply]:
    """Run the handler for this reaction; a reaction nobody handles is silently fine."""
    from commands.features import registry  # late: the loader imports the feature modules

    registry()  # makes sure every feature module (and its rules) is loaded
    wanted = _normalise(key)
    for rule in _RULES:
        if rule.ref_kind == ref_kind and wanted in rule.keys:
            savepoint = ctx.db.begin_nested()
            try:
                result = rule.handler(ctx, key, ref_id)
                savepoint.commit()
            except Exception:
                savepoint.rollback()
                raise
            return [] if result is None else Registry._normalise(ctx, result)
    return []
