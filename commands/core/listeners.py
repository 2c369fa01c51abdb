"""What a feature notices beyond commands: every message and reaction in a room (who took
part in a meeting), declared on its router with `@router.listener()`; and the due dates it
names (`bis zur nächsten Sitzung`), declared with `@router.due_date()`.

The bot runs every listener for each message and reaction of a room that is newer than
the bot's join and not yet handled, in the database thread, in one small transaction of
its own (or in the command's, before the command). A listener returns nothing and must be
cheap and idempotent: the same event may come again after a crash, so it inserts what is
not there yet and changes nothing else. One that fails is logged and does not stop the
command or the other listeners.

A listener with something to do only now and then (while a meeting runs) says when with
`only_while`: the bot asks that in the one query it makes for each event anyway, and
a listener with nothing to do costs no statement at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from commands.core.when import When

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
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
    # What the bot found out about the `Precondition`s of guarded listeners (`only_while`)
    # for this room and moment; one not named here is run.
    holds: Mapping[Precondition, bool] = field(default_factory=dict)


Listener = Callable[[Activity], None]

# (room ID, moment) -> whether a listener may have something to do then, as an SQL truth
# value (an EXISTS): a column of the query the bot makes for each event anyway. Called once
# (that query is built once), with bound parameters standing for the event's room and
# moment.
Precondition = Callable[["ColumnElement[str]", "ColumnElement[dt.datetime]"], "ColumnElement[bool]"]


@dataclass(frozen=True)
class Guarded:
    """A listener that runs only while its precondition holds (see `only_while`)."""

    run: Listener
    precondition: Precondition

    @property
    def __name__(self) -> str:  # what the registry's log line names a failed listener by
        return self.run.__name__

    def __call__(self, activity: Activity) -> None:
        if activity.holds.get(self.precondition, True):
            self.run(activity)


def only_while(precondition: Precondition) -> Callable[[Listener], Guarded]:
    """Declare, below `@router.listener()`, that the listener has nothing to do unless
    `precondition` holds for the activity's room at its moment."""

    def guard(run: Listener) -> Guarded:
        return Guarded(run, precondition)

    return guard


def preconditions(listeners: Sequence[Listener]) -> list[Precondition]:
    """The preconditions of the guarded ones among `listeners`, each once."""
    found = (run.precondition for run in listeners if isinstance(run, Guarded))
    return list(dict.fromkeys(found))


# (ctx, the due-date text as written) -> the date it names; None when the text is not this
# feature's phrase. A phrase it knows but cannot resolve now raises a CommandError.
DueDateResolver = Callable[["Context", str], When | None]
