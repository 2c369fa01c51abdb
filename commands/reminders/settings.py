"""The room settings of reminders and the weekly digest, and the room's policy built from them.

`!einstellungen erinnerung 3 tage vorher` (working days before the due date; `aus`: none),
`!einstellungen erinnerungszeit 8:30`, `!einstellungen überfällig alle 7 tage 3 mal`
(`aus`: no overdue reminders), `!einstellungen wochenüberblick montag 9:00` / `… aus`,
`!einstellungen bundesland BY`. English: `reminder 3 days before`, `remindertime 8:30`,
`overdue every 7 days 3 times`, `weekly monday 9:00` / `weekly off`, `state BY`.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from commands.core import i18n
from commands.core.context import Context
from commands.core.defaults import Defaults, limits
from commands.core.errors import CommandError
from commands.core.registry import Router
from commands.core.room import TIMEZONE_KEY
from commands.core.setting import Setting
from commands.parsing.dates import fold, format_time, parse_clock
from commands.reminders.policy import (
    DEFAULT_HOUR,
    NIGHT_STARTS,
    Policy,
    german_states,
    state_aliases,
)

router = Router()

MAX_BEFORE_DAYS = 20
EARLIEST_HOUR = dt.time(6, 0)
MAX_OVERDUE_DAYS = 60
MAX_OVERDUE_TIMES = 10

_OFF = {"aus", "off", "keine", "keiner", "none", "nie", "never", "0", "nein", "no"}
_ON = {"an", "ein", "on", "ja", "yes"}


# Small vocabularies of their own (the date parser's are internal to it), folded spellings.
_NUMBERS = {
    word: n
    for n, words in enumerate(
        (
            "null|zero",
            "ein|eins|eine|einen|einmal|one|once|a|an",
            "zwei|zwo|two|twice",
            "drei|three",
            "vier|four",
            "fuenf|five",
            "sechs|six",
            "sieben|seven",
            "acht|eight",
            "neun|nine",
            "zehn|ten",
            "elf|eleven",
            "zwoelf|twelve",
            "dreizehn|thirteen",
            "vierzehn|fourteen",
            "fuenfzehn|fifteen",
            "sechzehn|sixteen",
            "siebzehn|seventeen",
            "achtzehn|eighteen",
            "neunzehn|nineteen",
            "zwanzig|twenty",
        )
    )
    for word in words.split("|")
}
_WEEKDAYS = (
    "montag|montags|mo|monday|mondays|mon",
    "dienstag|dienstags|di|tuesday|tuesdays|tue|tues",
    "mittwoch|mittwochs|mi|wednesday|wednesdays|wed",
    "donnerstag|donnerstags|do|thursday|thursdays|thu|thur|thurs",
    "freitag|freitags|fr|friday|fridays|fri",
    "samstag|samstags|sonnabend|sonnabends|sa|saturday|saturdays|sat",
    "sonntag|sonntags|so|sunday|sundays|sun",
)


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


# ---------------------------------------------------------------------------------------------
# before the due date

_BEFORE = re.compile(
    r"(?P<n>\w+)\s*(?:(?:arbeits|werk)?(?:tag|tage|tagen)|(?:working\s+|business\s+|work\s+)?"
    r"days?)?\s*(?:vorher|davor|vor\s+der\s+frist|before|ahead|in\s+advance)?"
)


def _parse_before(ctx: Context, value: str) -> str:
    text = fold(value).strip()
    if text in _OFF:
        return "0"
    m = _BEFORE.fullmatch(text)
    n = _number(m["n"]) if m else None
    if n is None or not 0 <= n <= MAX_BEFORE_DAYS:
        raise CommandError("settings.reminder.bad_before", value=value, max=MAX_BEFORE_DAYS)
    return str(n)


def _show_before(ctx: Context, value: str | None) -> str:
    n = int(value) if value else Policy().before_days
    if n == 0:
        return i18n.plain(ctx.lang, "settings.reminder.before_off")
    return i18n.plain(ctx.lang, "settings.reminder.before_value", n=n)


# ---------------------------------------------------------------------------------------------
# hour


def _parse_hour(ctx: Context, value: str) -> str:
    clock = parse_clock(value.strip())
    if clock is None and value.strip().isdigit():
        clock = parse_clock(value.strip() + ":00")
    if clock is None or not EARLIEST_HOUR <= clock < NIGHT_STARTS:
        raise CommandError(
            "settings.reminder.bad_hour",
            value=value,
            earliest=format_time(EARLIEST_HOUR, ctx.lang),
            latest=format_time(NIGHT_STARTS, ctx.lang),
        )
    return f"{clock:%H:%M}"


def _show_hour(ctx: Context, value: str | None) -> str:
    return format_time(_clock(value) or DEFAULT_HOUR, ctx.lang)


def _clock(value: str | None) -> dt.time | None:
    if not value:
        return None
    hours, _, minutes = value.partition(":")
    return dt.time(int(hours), int(minutes or 0))


# ---------------------------------------------------------------------------------------------
# overdue

_OVERDUE = re.compile(
    r"(?:(?:alle|jede[nr]?|every|each)\s+)?(?P<n>\w+)?\s*(?P<unit>tage?n?|days?|wochen?|weeks?)"
    r"\s*[,;]?\s*(?:(?:und|and|,)\s*)?(?:(?:hoechstens|maximal|max\.?|hoch|at\s+most|up\s+to)\s+)?"
    r"(?:(?P<times>\w+)\s*(?:-?\s*mal|x|times?))?"
)


def _parse_overdue(ctx: Context, value: str) -> str:
    text = fold(value).strip().rstrip(".")
    if text in _OFF:
        return "0x0"
    m = _OVERDUE.fullmatch(text)
    every = _number(m["n"]) if m and m["n"] else (1 if m else None)
    times = _number(m["times"]) if m and m["times"] else (Policy().overdue_times if m else None)
    if m and every is not None and m["unit"].startswith(("w", "week")):
        every *= 7
    if (
        every is None
        or times is None
        or not 1 <= every <= MAX_OVERDUE_DAYS
        or not 1 <= times <= MAX_OVERDUE_TIMES
    ):
        raise CommandError(
            "settings.reminder.bad_overdue",
            value=value,
            max_days=MAX_OVERDUE_DAYS,
            max_times=MAX_OVERDUE_TIMES,
        )
    return f"{every}x{times}"


def _overdue(value: str | None) -> tuple[int, int]:
    if not value:
        p = Policy()
        return p.overdue_every_days, p.overdue_times
    every, _, times = value.partition("x")
    return int(every), int(times or 0)


def _show_overdue(ctx: Context, value: str | None) -> str:
    every, times = _overdue(value)
    if every == 0 or times == 0:
        return i18n.plain(ctx.lang, "settings.reminder.overdue_off")
    return i18n.plain(ctx.lang, "settings.reminder.overdue_value", every=every, times=times)


# ---------------------------------------------------------------------------------------------
# digest

# "0 09:00 2026-03-09T10:15Z": weekday, time, since when; "off 2026-…": no digest.


def _weekday(word: str) -> int | None:
    word = word.rstrip(".")
    for i, names in enumerate(_WEEKDAYS):
        if word in names.split("|"):
            return i
    return None


def _parse_digest(ctx: Context, value: str) -> str:
    since = ctx.now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    text = fold(value).strip()
    if text in _OFF:
        return f"off {since}"
    if text in _ON:
        return f"0 {DEFAULT_HOUR:%H:%M} {since}"
    words = re.sub(r"^(?:jeden|jeweils|am|every|on)\s+", "", text).split(None, 1)
    day = _weekday(words[0]) if words else None
    clock: dt.time | None = DEFAULT_HOUR
    if len(words) > 1:
        rest = re.sub(r"^(?:um|at)\s+", "", words[1])
        clock = parse_clock(rest) or (parse_clock(rest + ":00") if rest.isdigit() else None)
    if day is None or clock is None or not EARLIEST_HOUR <= clock < NIGHT_STARTS:
        raise CommandError("settings.reminder.bad_digest", value=value)
    return f"{day} {clock:%H:%M} {since}"


def _digest(value: str | None) -> tuple[int | None, dt.time, dt.datetime | None]:
    if not value:
        return 0, DEFAULT_HOUR, None
    parts = value.split()
    since = (
        dt.datetime.strptime(parts[-1], "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.UTC)
        if len(parts) >= 2
        else None
    )
    if parts[0] == "off":
        return None, DEFAULT_HOUR, since
    return int(parts[0]), _clock(parts[1]) or DEFAULT_HOUR, since


def _show_digest(ctx: Context, value: str | None) -> str:
    day, clock, _ = _digest(value)
    if day is None:
        return i18n.plain(ctx.lang, "settings.reminder.digest_off")
    name = i18n.plain(ctx.lang, f"settings.reminder.weekday.{day}")
    return i18n.plain(
        ctx.lang, "settings.reminder.digest_value", day=name, time=format_time(clock, ctx.lang)
    )


# ---------------------------------------------------------------------------------------------
# state (public holidays)


def _parse_state(ctx: Context, value: str) -> str:
    text = value.strip()
    states = german_states()
    if text.upper() in states:
        return text.upper()
    for name, code in state_aliases().items():
        if fold(name) == fold(text) and code in states:
            return str(code)
    raise CommandError("settings.reminder.bad_state", value=value, states=", ".join(states))


def _show_state(ctx: Context, value: str | None) -> str:
    return value or ctx.defaults.state


BEFORE = router.setting(
    Setting(
        "reminder.before",
        ("erinnerung", "reminder"),
        "settings.reminder.before",
        _parse_before,
        _show_before,
    )
)
HOUR = router.setting(
    Setting(
        "reminder.hour",
        ("erinnerungszeit", "uhrzeit", "remindertime", "reminder-time", "time"),
        "settings.reminder.hour",
        _parse_hour,
        _show_hour,
    )
)
OVERDUE = router.setting(
    Setting(
        "reminder.overdue",
        ("überfällig", "overdue"),
        "settings.reminder.overdue",
        _parse_overdue,
        _show_overdue,
    )
)
DIGEST = router.setting(
    Setting(
        "reminder.digest",
        ("wochenüberblick", "digest", "weekly"),
        "settings.reminder.digest",
        _parse_digest,
        _show_digest,
    )
)
STATE = router.setting(
    Setting(
        "reminder.state",
        ("bundesland", "state"),
        "settings.reminder.state",
        _parse_state,
        _show_state,
    )
)


def policy_from_settings(stored: dict[str, str], defaults: Defaults) -> Policy:
    """The room's policy from its stored settings (see `rooms.get_settings`)."""
    every, times = _overdue(stored.get(OVERDUE.key))
    day, clock, since = _digest(stored.get(DIGEST.key))
    before = stored.get(BEFORE.key)
    return Policy(
        tz=ZoneInfo(stored.get(TIMEZONE_KEY) or defaults.timezone),
        state=stored.get(STATE.key) or defaults.state,
        hour=_clock(stored.get(HOUR.key)) or DEFAULT_HOUR,
        before_days=int(before) if before else Policy().before_days,
        overdue_every_days=every if times else 0,
        overdue_times=times,
        digest_weekday=day,
        digest_time=clock,
        digest_since=since,
        quiet=_quiet(defaults),
    )


def _quiet(defaults: Defaults) -> tuple[dt.time, dt.time] | None:
    """The quiet hours of `!erinnere` reminders (config `quiet_hours:`); equal: none."""
    found = limits(defaults)
    if found.quiet_start == found.quiet_end:
        return None
    return (found.quiet_start, found.quiet_end)
