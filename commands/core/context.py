"""What a command handler gets: the Context of the message it answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from commands.core.defaults import Defaults
from commands.core.names import display_name
from commands.core.power import StateLevels
from commands.core.rich import Rich, code

if TYPE_CHECKING:
    from sqlmodel import Session

    from commands.core.registry import Registry


class Role(IntEnum):
    """Ordered so that `ctx.role >= Role.CHAIR` reads naturally."""

    MEMBER = 0
    CHAIR = 1
    COORDINATION = 2


@dataclass(frozen=True)
class Context:
    """Everything a handler may know about the message it answers."""

    room_id: str
    sender: str
    event_id: str
    now: dt.datetime
    db: Session
    # Every command, reaction rule and setting (help and settings list them).
    registry: Registry
    # The room's language and time zone (its settings, else the defaults).
    lang: str
    tz: ZoneInfo
    # What the bot's config gives rooms that have not set something themselves.
    defaults: Defaults
    role: Role = Role.MEMBER
    server_name: str = "localhost"
    prefix: str = "!"
    # User IDs the client marked as mentioned (m.mentions and pills in formatted_body).
    mentions: tuple[str, ...] = ()
    # Joined members of the room: user ID -> display name. None when unknown (CLI).
    members: Mapping[str, str] | None = None
    # The event this message replies to, if any (used to act on a bot message).
    reply_to: str | None = None
    coordinators: frozenset[str] = frozenset()
    # Power levels of the room: user ID -> level.
    power_levels: Mapping[str, int] = field(default_factory=dict)
    # The levels the room's power levels require to send state events (the bot checks
    # its own before it adds something to the room). Unknown: the specification's.
    state_levels: StateLevels = field(default_factory=StateLevels)
    # The message's HTML form (Element pills), when the client sent one.
    html_body: str | None = None
    # The bot's own user ID (it is a member of every room it answers in).
    bot_user: str | None = None
    # Free-form extras the bot layer passes (e.g. the referenced object of a replied-to message).
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_(self, **changes: Any) -> Context:
        return replace(self, **changes)

    def display_name(self, user_id: str) -> str:
        return display_name(user_id, self.members)


def command_hint(ctx: Context, de: str, en: str, *args: object) -> Rich:
    """A command to type, in the room's language and with the bot's prefix:
    `!erledigt 3` / `!done 3`."""
    name = en if ctx.lang == "en" else de
    return code(" ".join([ctx.prefix + name, *(str(a) for a in args)]))
