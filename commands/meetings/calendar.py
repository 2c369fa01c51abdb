"""When a room's next meetings are: its plan (one date or a series) read from storage.

Nothing is precomputed: the next meetings are derived from the plan every time, so a
changed or removed plan changes the agenda and `bis zur nächsten Sitzung` at once.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlmodel import Session

from commands.core.when import When, combine_local
from commands.parsing.dates import format_date, format_time
from commands.parsing.recurrence import Recurrence
from storage import meetings as store
from storage.models import MeetingPlan

# `!sitzung` shows this many planned meetings.
SHOWN = 3


@dataclass(frozen=True)
class Planned:
    """One planned meeting: a day, and the time of day when the plan names one."""

    date: dt.date
    time: dt.time | None = None

    def starts(self, tz: dt.tzinfo) -> dt.datetime:
        """When it begins; a meeting without a time of day counts as the whole day."""
        return combine_local(self.date, self.time or dt.time(0, 0), tz)

    def over(self, tz: dt.tzinfo) -> dt.datetime:
        """From when on it is no longer ahead."""
        if self.time is not None:
            return self.starts(tz)
        return combine_local(self.date + dt.timedelta(days=1), dt.time(0, 0), tz)

    def text(self, lang: str) -> str:
        day = format_date(self.date, lang)
        return day if self.time is None else f"{day}, {format_time(self.time, lang)}"

    @property
    def when(self) -> When:
        return When(self.date, self.time)


def rule_of(plan: MeetingPlan) -> Recurrence | None:
    if not plan.recurrence:
        return None
    data = json.loads(plan.recurrence)
    hours, minutes = (int(x) for x in data["time"].split(":"))
    return Recurrence(
        data["freq"], dt.time(hours, minutes), tuple(data.get("weekdays") or ()), data.get("nth")
    )


def upcoming_of(plan: MeetingPlan, now: dt.datetime, count: int = SHOWN) -> list[Planned]:
    """The plan's next `count` meetings not yet begun at `now` (aware, in the room's zone)."""
    tz = now.tzinfo
    assert tz is not None
    rule = rule_of(plan)
    if rule is None:
        if plan.next_date is None:
            return []
        single = Planned(plan.next_date, plan.next_time)
        return [single] if single.over(tz) > now else []
    found: list[Planned] = []
    # A series' meeting that has begun is behind us; the search starts just before now.
    moment = now
    while len(found) < count:
        moment = rule.next_after(moment)
        found.append(Planned(moment.date(), rule.time))
    return found


def upcoming(db: Session, room_id: str, now: dt.datetime, count: int = SHOWN) -> list[Planned]:
    plan = store.plan_of(db, room_id)
    return [] if plan is None else upcoming_of(plan, now, count)
