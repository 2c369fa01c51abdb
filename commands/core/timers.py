"""Work a feature does at a time of its own (a poll's deadline, a meeting's agenda, the
monthly report), declared on its router with `@router.timer()`.

The scheduler (`bot.runtime.scheduler`) calls every timer at each wake-up, in the database
thread and in one transaction with the effects it returns: a timer reads the database,
records what it did (a poll closed, an agenda posted) and returns the effects to send,
each under a key unique for all time, and the moment it wants to be called next. Calling
it twice for the same moment must do nothing the second time: what it did is in the
database, and the outbox stores one message per key. A timer that fails is logged and
retried a minute later; the other timers and the reminders go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from commands.core.defaults import Defaults
from commands.core.effects import AnyEffect


class TimerEnv(Protocol):
    """What the bot knows beyond the database (the scheduler's ReminderEnv has it all)."""

    @property
    def defaults(self) -> Defaults: ...

    @property
    def coordinators(self) -> frozenset[str]: ...

    @property
    def bot_user(self) -> str | None: ...

    @property
    def members(self) -> Callable[[str], Mapping[str, str]]: ...

    @property
    def power_levels(self) -> Callable[[str], Mapping[str, int]]: ...


@dataclass(frozen=True)
class Timed:
    """One effect a timer owes: sent to `room_id` (or the effect's own target)."""

    key: str
    room_id: str
    effect: AnyEffect


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
