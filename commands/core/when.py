"""A date as a member names it (`When`), and the wall-clock arithmetic that makes it a moment.

Here, not in commands/parsing, because core declares what features hand each other: a
feature's named due date (`@router.due_date()`, commands.core.listeners) is a `When`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class When:
    """A resolved date, with the time of day only when the text named one."""

    date: dt.date
    time: dt.time | None = None

    def at(self, default_time: dt.time, tz: dt.tzinfo) -> dt.datetime:
        """The aware moment: the named time, else ``default_time``, as wall-clock time in ``tz``."""
        return combine_local(self.date, self.time or default_time, tz)


def combine_local(day: dt.date, clock: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """Wall-clock ``day`` + ``clock`` in ``tz``; a time that the DST switch skips moves forward.

    The round trip through UTC normalises 02:30 on the spring-forward day to 03:30, so
    reminders still fire instead of pointing at a moment that never exists.
    """
    naive = dt.datetime.combine(day, clock.replace(tzinfo=None))
    return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)
