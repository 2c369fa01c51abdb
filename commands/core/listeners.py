"""What a feature notices beyond commands: every message and reaction in a room (who took
part in a meeting), declared on its router with `@router.listener()`; and the due dates it
names (`bis zur nächsten Sitzung`), declared with `@router.due_date()`.

The bot runs every listener for each message and reaction of a room that is newer than
the bot's join and not yet handled, in the database thread, in one small transaction of
its own (or in the command's, before the command). A listener returns nothing and must be
cheap and idempotent: the same event may come again after a crash, so it inserts what is
not there yet and changes nothing else. One that fails is logged and does not stop the
command or the other listeners.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.core.when import When

if TYPE_CHECKING:
    from sqlmodel import Session

    from commands.core.context import Context


@dataclass(frozen=True)
class Activity:
    """A member wrote or reacted in a room."""

    room_id: str
    sender: str
    # The name the room shows for the sender (may be empty).
    display_name: str
    # When the member sent it (the event's timestamp), not when the bot read it.
    at: dt.datetime
    event_id: str
    db: Session


Listener = Callable[[Activity], None]

# (ctx, the due-date text as written) -> the date it names; None when the text is not this
# feature's phrase. A phrase it knows but cannot resolve now raises a CommandError.
DueDateResolver = Callable[["Context", str], When | None]
