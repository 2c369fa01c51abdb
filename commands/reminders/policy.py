"""When reminders are due: pure rules, no clock, no database, no network.

Given an agreement as it is now (status, due date, owners), the room's policy, the public
holidays of the state and the log of what was already handled, these functions say which
occurrences exist, which of them are due at ``now`` and when the next one falls. Because
the occurrences are derived from the agreement's current state every time, completing,
cancelling, re-dating or reassigning an agreement changes its future reminders at once.

Rules (defaults as in DESIGN.md, each changeable per room):

- *before*: ``before_days`` working days before the due date, at the room's reminder hour.
- *due*: on the due date at the reminder hour; a due date on a weekend or holiday is
  reminded on the next working morning.
- *overdue*: every ``overdue_every_days`` days after the due date, ``overdue_times`` times
  at most; the last one also mentions the chair and the coordination (escalation).
- *snooze*: ``!später`` puts the agreement's reminders between the snooze and its end off
  to the end (moved to the next working morning if that falls at night or on a holiday).
- Automatic reminders never go out at night (before the reminder hour or from 20:00) or on
  a weekend or public holiday; one that is late for such a moment waits for the next
  working morning. Reminders set with ``!erinnere`` go out at exactly their time, except
  in the quiet hours (config ``quiet_hours:``, default 22:00–06:00 room time): one falling
  in them, whether one-off, recurring or put off, is posted when they end. A member cannot
  schedule the room's night from the day (nor by a recurring rule); only who is awake in
  the night and asks, in that night, for a one-off reminder (or a snooze) due before it
  ends gets it then (`!erinnere in 20 minuten …` at 23:00).
- Occurrences before the agreement was created, re-dated or reopened never fire; of several
  occurrences that all fell due while the bot was away only the latest is posted, the
  others are recorded as skipped: a reminder is posted once, never repeated in a burst.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from commands.core.defaults import Defaults, Limits
from commands.core.timers import DEFAULT_LATE_AFTER
from commands.core.when import combine_local
from commands.parsing.recurrence import Recurrence
from storage.models import AgreementStatus, ReminderKind

if TYPE_CHECKING:
    from holidays import HolidayBase

# Automatic reminders are never posted from this time of day until the next morning.
NIGHT_STARTS = dt.time(20, 0)
DEFAULT_HOUR = dt.time(9, 0)
# A room without settings of its own; the bot's config may give others (TimerEnv).
_DEFAULTS = Defaults()
_LIMITS = Limits()

_DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# Working days


# The holidays library is imported only once a room's calendar or a setting needs it: 4 MB,
# and with its first calendar it loads those of every country (9 MB more), which a bot in
# no room yet never needs.


@functools.cache
def german_states() -> tuple[str, ...]:
    """The states' codes: NW, BY, …"""
    import holidays  # lazy: see above

    return tuple(s for s in holidays.Germany.subdivisions if len(s) == 2)


def state_aliases() -> dict[str, str]:
    """The states' names (Bayern, Nordrhein-Westfalen, …) and their codes."""
    import holidays  # lazy: see above

    return dict(holidays.Germany.subdivisions_aliases)


class WorkCalendar:
    """Working days of a German state: Monday to Friday except its public holidays."""

    def __init__(self, state: str) -> None:
        import holidays  # lazy: see above

        if state not in german_states():
            raise ValueError(f"unknown German state {state!r}, e.g. NW or BY")
        self.state = state
        self._holidays: HolidayBase = holidays.country_holidays("DE", subdiv=state)

    def holiday(self, day: dt.date) -> str | None:
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def working_days_before(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day before ``day`` (``day`` itself not counted)."""
        found = 0
        while found < n:
            day -= _DAY
            if self.is_working_day(day):
                found += 1
        return day

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += _DAY
        return day


@functools.cache
def work_calendar(state: str) -> WorkCalendar:
    return WorkCalendar(state)


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Policy:
    """A room's reminder policy; the defaults are DESIGN.md's."""

    tz: ZoneInfo = field(default_factory=lambda: _DEFAULTS.zone)
    state: str = _DEFAULTS.state
    hour: dt.time = DEFAULT_HOUR
    before_days: int = 2  # working days before the due date; 0: no such reminder
    on_due: bool = True
    overdue_every_days: int = 7  # 0: no overdue reminders
    overdue_times: int = 3
    digest_weekday: int | None = 0  # Monday; None: no digest
    digest_time: dt.time = DEFAULT_HOUR
    # The digest setting was last changed then: earlier digests are not owed.
    digest_since: dt.datetime | None = None
    # Quiet hours (start, end) in room time for `!erinnere` reminders; None: none.
    quiet: tuple[dt.time, dt.time] | None = (_LIMITS.quiet_start, _LIMITS.quiet_end)

    @property
    def calendar(self) -> WorkCalendar:
        return work_calendar(self.state)


@dataclass(frozen=True)
class AgreementFacts:
    id: int
    room_id: str
    number: int
    text: str
    status: str
    due_date: dt.date | None
    owners: tuple[str, ...]
    created_by: str
    # Created, or last re-dated or reopened: occurrences before it never fire.
    active_since: dt.datetime
    due_time: dt.time | None = None


@dataclass(frozen=True)
class Snooze:
    until: dt.datetime
    set_at: dt.datetime


@dataclass(frozen=True)
class Occurrence:
    """One moment a reminder is owed. ``at`` is when it may go out, ``nominal`` when it
    would have without the working-day and night rules."""

    key: str
    kind: ReminderKind
    at: dt.datetime
    nominal: dt.datetime
    index: int = 0  # overdue: 1, 2, … ; the others 0
    escalate: bool = False  # the last overdue reminder: chair and coordination too
    automatic: bool = True  # False: an explicit `!erinnere` time, exact and never moved


@dataclass(frozen=True)
class Decision:
    """What to do now: post ``send`` (late or not), record ``skip`` as passed over."""

    send: Occurrence | None
    late: bool
    skip: tuple[Occurrence, ...]


# ---------------------------------------------------------------------------------------------
# Time-of-day rules


def _morning(day: dt.date, start: dt.time, policy: Policy) -> dt.datetime:
    return combine_local(day, start, policy.tz)


def is_quiet(moment: dt.datetime, policy: Policy, start: dt.time | None = None) -> bool:
    """Night, weekend or public holiday: no automatic reminder at this moment."""
    start = start or policy.hour
    local = moment.astimezone(policy.tz)
    clock = local.time().replace(tzinfo=None)
    return (
        not policy.calendar.is_working_day(local.date()) or clock < start or clock >= NIGHT_STARTS
    )


def next_allowed(moment: dt.datetime, policy: Policy, start: dt.time | None = None) -> dt.datetime:
    """``moment`` itself when an automatic reminder may go out then, else the next working
    morning at ``start`` (the reminder hour by default)."""
    start = start or policy.hour
    if not is_quiet(moment, policy, start):
        return moment
    local = moment.astimezone(policy.tz)
    day = local.date()
    if local.time().replace(tzinfo=None) >= start:
        day += _DAY
    day = policy.calendar.next_working_day(day)
    return _morning(day, start, policy)


def in_quiet_hours(moment: dt.datetime, policy: Policy) -> bool:
    """Within the quiet hours (room time), when no `!erinnere` reminder is posted."""
    if policy.quiet is None:
        return False
    start, end = policy.quiet
    clock = moment.astimezone(policy.tz).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def after_quiet_hours(moment: dt.datetime, policy: Policy) -> dt.datetime:
    """``moment`` itself outside the quiet hours, else the moment they end."""
    if not in_quiet_hours(moment, policy):
        return moment
    assert policy.quiet is not None
    end = policy.quiet[1]
    local = moment.astimezone(policy.tz)
    day = local.date()
    if local.time().replace(tzinfo=None) >= end:
        day += _DAY  # e.g. 23:10 with quiet hours 22:00–06:00: tomorrow at 06:00
    return combine_local(day, end, policy.tz)


def explicit_post_time(
    moment: dt.datetime, policy: Policy | None, asked_at: dt.datetime | None = None
) -> dt.datetime:
    """When an explicit reminder due at ``moment`` is posted: then, unless it falls in the
    quiet hours, else at their end — except when it was asked for (``asked_at``) in the
    same quiet hours it falls in, by someone awake then."""
    if policy is None:
        return moment
    if (
        asked_at is not None
        and in_quiet_hours(asked_at, policy)
        and asked_at <= moment < after_quiet_hours(asked_at, policy)
    ):
        return moment
    return after_quiet_hours(moment, policy)


# ---------------------------------------------------------------------------------------------
# Occurrences


def agreement_occurrences(
    a: AgreementFacts, policy: Policy, snooze: Snooze | None = None
) -> list[Occurrence]:
    """Every reminder the agreement is owed in its current state, past and future."""
    if a.status != AgreementStatus.OPEN or a.due_date is None:
        return []
    cal = policy.calendar
    due = a.due_date
    base = f"agreement:{a.id}"
    found: list[Occurrence] = []
    if policy.before_days > 0:
        day = cal.working_days_before(due, policy.before_days)
        moment = _morning(day, policy.hour, policy)
        found.append(Occurrence(f"{base}:before:{due}", ReminderKind.BEFORE, moment, moment))
    if policy.on_due:
        nominal = _morning(due, policy.hour, policy)
        at = next_allowed(nominal, policy)
        found.append(Occurrence(f"{base}:due:{due}", ReminderKind.DUE, at, nominal))
    if policy.overdue_every_days > 0:
        for n in range(1, policy.overdue_times + 1):
            day = due + dt.timedelta(days=n * policy.overdue_every_days)
            nominal = _morning(day, policy.hour, policy)
            found.append(
                Occurrence(
                    f"{base}:overdue{n}:{due}",
                    ReminderKind.OVERDUE,
                    next_allowed(nominal, policy),
                    nominal,
                    index=n,
                    escalate=n == policy.overdue_times,
                )
            )
    if snooze is not None:
        found = [o for o in found if not (snooze.set_at <= o.at < snooze.until)]
        at = next_allowed(snooze.until, policy)
        key = f"{base}:snooze:{_iso(snooze.until)}"
        found.append(Occurrence(key, ReminderKind.SNOOZE, at, snooze.until))
    return sorted((o for o in found if o.at >= a.active_since), key=lambda o: (o.at, o.index))


def digest_occurrences(
    room_id: str, policy: Policy, now: dt.datetime, *, joined_at: dt.datetime
) -> list[Occurrence]:
    """The weekly digest of last week, this week and next week (enough to decide and plan)."""
    if policy.digest_weekday is None:
        return []
    local_today = now.astimezone(policy.tz).date()
    monday = local_today - dt.timedelta(days=local_today.weekday())
    since = max(joined_at, policy.digest_since or joined_at)
    found: list[Occurrence] = []
    for weeks in (-1, 0, 1):
        day = monday + dt.timedelta(days=7 * weeks + policy.digest_weekday)
        nominal = _morning(day, policy.digest_time, policy)
        at = next_allowed(nominal, policy, policy.digest_time)
        if at < since:
            continue
        year, week, _ = day.isocalendar()
        key = f"digest:{room_id}:{year}-W{week:02d}"
        found.append(Occurrence(key, ReminderKind.DIGEST, at, nominal))
    return found


def once_occurrences(
    reminder_id: int,
    due_at: dt.datetime,
    snooze: Snooze | None = None,
    policy: Policy | None = None,
    *,
    created_at: dt.datetime | None = None,
) -> list[Occurrence]:
    """A one-off reminder; with the room's ``policy`` its quiet hours move it (see
    ``explicit_post_time``; ``created_at``: when it was asked for)."""
    at = explicit_post_time(due_at, policy, created_at)
    key = f"reminder:{reminder_id}:{_iso(due_at)}"
    found = [Occurrence(key, ReminderKind.ONCE, at, due_at, automatic=False)]
    return found + _explicit_snooze(reminder_id, snooze, policy)


def recurring_occurrences(
    reminder_id: int,
    rule: Recurrence,
    tz: ZoneInfo,
    *,
    since: dt.datetime,
    now: dt.datetime,
    snooze: Snooze | None = None,
    policy: Policy | None = None,
) -> list[Occurrence]:
    """Occurrences after ``since`` up to ``now`` and the first one after ``now``; with the
    room's ``policy`` its quiet hours move them."""
    found: list[Occurrence] = []
    moment = since.astimezone(tz)
    for _ in range(5000):  # bounded: a daily rule over 13 years of downtime
        moment = rule.next_after(moment)
        found.append(
            Occurrence(
                f"reminder:{reminder_id}:{_iso(moment)}",
                ReminderKind.RECURRING,
                explicit_post_time(moment, policy),
                moment,
                automatic=False,
            )
        )
        if moment > now:
            break
    if snooze is not None:
        found = [o for o in found if not (snooze.set_at <= o.at < snooze.until)]
    return found + _explicit_snooze(reminder_id, snooze, policy)


def _explicit_snooze(
    reminder_id: int, snooze: Snooze | None, policy: Policy | None = None
) -> list[Occurrence]:
    if snooze is None:
        return []
    return [
        Occurrence(
            f"reminder:{reminder_id}:snooze:{_iso(snooze.until)}",
            ReminderKind.SNOOZE,
            explicit_post_time(snooze.until, policy, snooze.set_at),
            snooze.until,
            automatic=False,
        )
    ]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


# ---------------------------------------------------------------------------------------------
# Decisions


def decide(
    occurrences: Iterable[Occurrence],
    handled: Collection[str],
    now: dt.datetime,
    policy: Policy,
    *,
    late_after: dt.timedelta = DEFAULT_LATE_AFTER,
) -> Decision:
    """Of the occurrences due and not handled, post the latest; the earlier ones are skipped.

    An automatic reminder that became due while the bot was away waits, if ``now`` is at
    night or on a holiday, for the next working morning.
    """
    pending = sorted(
        (o for o in occurrences if o.key not in handled and o.at <= now),
        key=lambda o: (o.at, o.index),
    )
    if not pending:
        return Decision(None, False, ())
    latest = pending[-1]
    if latest.automatic and is_quiet(now, policy, _start(latest, policy)):
        return Decision(None, False, ())
    if (
        not latest.automatic
        and in_quiet_hours(now, policy)
        and not in_quiet_hours(latest.at, policy)
    ):
        return Decision(None, False, ())  # late after an outage, but now it is night
    return Decision(latest, now - latest.at > late_after, tuple(pending[:-1]))


def next_moment(
    occurrences: Iterable[Occurrence],
    handled: Collection[str],
    now: dt.datetime,
    policy: Policy,
) -> dt.datetime | None:
    """When something of these occurrences can next be posted (``now`` or later)."""
    best: dt.datetime | None = None
    for o in occurrences:
        if o.key in handled:
            continue
        at = o.at
        if at <= now:
            if o.automatic:
                at = next_allowed(now, policy, _start(o, policy))
            elif not in_quiet_hours(o.at, policy):
                at = after_quiet_hours(now, policy)
            else:
                at = now  # meant for the night by someone awake in it
        if best is None or at < best:
            best = at
    return best


def upcoming(
    occurrences: Sequence[Occurrence], handled: Collection[str], now: dt.datetime
) -> Occurrence | None:
    """The next occurrence still to come (for `!erinnerungen`)."""
    future = [o for o in occurrences if o.key not in handled and o.at > now]
    return min(future, key=lambda o: o.at) if future else None


def _start(o: Occurrence, policy: Policy) -> dt.time:
    return policy.digest_time if o.kind == ReminderKind.DIGEST else policy.hour
