"""Work a feature does at a time of its own (reminders, a poll's deadline, a meeting's
agenda, the monthly report), declared on its router with `@router.timer()`.

The scheduler (`bot.runtime.scheduler`) calls every timer at each wake-up, in the database
thread and in one transaction with the effects it returns: a timer reads the database,
records what it did (a poll closed, an agenda posted) and returns the effects to send,
each under a key unique for all time, and the moment it wants to be called next. Calling
it twice for the same moment must do nothing the second time: what it did is in the
database, and the outbox stores one message per key. A timer that fails undoes that
wake-up's transaction; the scheduler then calls the timers room by room, so that one
room's bad data holds up only that room (logged, and retried a minute later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session

from commands.core.defaults import Defaults
from commands.core.effects import AnyEffect

# A timed message posted later than this after its moment says so ("verspätet").
DEFAULT_LATE_AFTER = dt.timedelta(minutes=5)


def _no_members(room_id: str) -> Mapping[str, str]:
    return {}


def _no_levels(room_id: str) -> Mapping[str, int]:
    return {}


@dataclass(frozen=True)
class TimerEnv:
    """What the bot knows beyond the database: the config and the rooms' members."""

    defaults: Defaults = field(default_factory=Defaults)
    coordinators: frozenset[str] = frozenset()
    late_after: dt.timedelta = DEFAULT_LATE_AFTER
    bot_user: str | None = None
    # Display names and power levels of a room's members (read in the database thread).
    members: Callable[[str], Mapping[str, str]] = _no_members
    power_levels: Callable[[str], Mapping[str, int]] = _no_levels


@dataclass(frozen=True)
class Timed:
    """One effect a timer owes: sent to `room_id` (or the effect's own target)."""

    key: str
    room_id: str
    # None: due now, but nothing to post (the timer notes that in `queued`).
    effect: AnyEffect | None
    # Counted as a reminder in the operator's metrics, and whether it went out later than
    # `TimerEnv.late_after` after its moment.
    reminder: bool = False
    late: bool = False
    # Called with the queued message's outbox ID (None: nothing posted) in the transaction
    # that queues it, so that the timer records the message beside what it did.
    queued: Callable[[int | None], None] | None = None


@dataclass
class TimerResult:
    effects: list[Timed] = field(default_factory=list)
    # When to be called again at the latest (None: nothing planned).
    next_at: dt.datetime | None = None

    def later(self, moment: dt.datetime | None) -> None:
        if moment is not None and (self.next_at is None or moment < self.next_at):
            self.next_at = moment


# (session, now, env, the one room to look at or None for all) -> what is owed now
Timer = Callable[[Session, dt.datetime, TimerEnv, str | None], TimerResult]


@dataclass(frozen=True)
class TimerRule:
    name: str
    run: Timer
