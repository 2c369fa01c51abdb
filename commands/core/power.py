"""Who may send which state event in a room, read from its `m.room.power_levels`: the one
reading of the levels for the bot layer (bot.runtime.command_state, which publishes the
commands only where it may) and for the commands (`ctx.state_levels`: `!dashboard
einrichten` checks the bot's own level before it changes anything).

A state event of a type needs the level `events[type]`, else `state_default`; a room
without power levels lets every member (level 0) send state, one whose power levels name
no `state_default` asks for 50 (the Matrix specification's defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The specification's `state_default` when `m.room.power_levels` does not name one.
SPEC_STATE_DEFAULT = 50
# Element's names for the levels: what a room's admin picks under "Roles & Permissions".
MODERATOR_LEVEL = 50
ADMIN_LEVEL = 100


def _parsed(value: object) -> int | None:
    """A power level as rooms store it: an integer, in old rooms also a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def level(value: object, default: int) -> int:
    """A power level as rooms store it; `default` where it is none."""
    found = _parsed(value)
    return default if found is None else found


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class StateLevels:
    """The levels a room's power levels require for state events: `events` by type, else
    `state_default`. Made without arguments it is a room whose power levels are unknown,
    taken as strict as the specification's defaults."""

    events: Mapping[str, int] = field(default_factory=dict)
    state_default: int = SPEC_STATE_DEFAULT

    def needed(self, event_type: str) -> int:
        return self.events.get(event_type, self.state_default)

    @classmethod
    def of(cls, content: Mapping[str, Any] | None) -> StateLevels:
        """From the content of `m.room.power_levels`; None: the room has none."""
        if content is None:
            return cls(state_default=0)
        # A type whose level cannot be read needs `state_default`, as if it were not named.
        parsed = {str(k): _parsed(v) for k, v in _mapping(content.get("events")).items()}
        events = {kind: n for kind, n in parsed.items() if n is not None}
        return cls(events, level(content.get("state_default"), SPEC_STATE_DEFAULT))


def user_level(content: Mapping[str, Any] | None, user_id: str) -> int:
    """A user's level by the content of `m.room.power_levels` (None: the room has none)."""
    if content is None:
        return 0
    default = level(content.get("users_default"), 0)
    return level(_mapping(content.get("users")).get(user_id), default)


def may_send_state(own_level: int, levels: StateLevels, event_type: str) -> bool:
    """Whether a user at `own_level` may send a state event of `event_type`."""
    return own_level >= levels.needed(event_type)
