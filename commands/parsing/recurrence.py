"""Recurring reminders: "jeden Montag 9:00", "jeden ersten Dienstag im Monat", "every friday 3pm".

Pure like `dates`: the caller passes the moment to count from and gets aware datetimes back
in that moment's time zone, so "09:00" stays 09:00 wall-clock time across DST changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from commands.core.when import combine_local
from commands.parsing.date_words import DE_WEEKDAYS, EN_WEEKDAYS, WEEKDAY_WORDS, fold
from commands.parsing.dates import parse_clock

__all__ = ["Recurrence", "parse_recurrence"]

Frequency = Literal["daily", "weekly", "monthly"]
_WORKDAYS = (0, 1, 2, 3, 4)
_DE_NTH = {1: "ersten", 2: "zweiten", 3: "dritten", 4: "vierten", -1: "letzten"}
_EN_NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


@dataclass(frozen=True)
class Recurrence:
    """When a recurring reminder fires.

    daily: every day at ``time``. weekly: on each of ``weekdays`` (0 = Monday). monthly: on the
    ``nth`` (1..4, or -1 for the last) ``weekdays[0]`` of every month.
    """

    freq: Frequency
    time: dt.time
    weekdays: tuple[int, ...] = ()
    nth: int | None = None

    def __post_init__(self) -> None:
        if self.time.tzinfo is not None:
            raise ValueError("the time of a recurrence is wall-clock time, without a zone")
        if any(not 0 <= d <= 6 for d in self.weekdays) or len(set(self.weekdays)) != len(
            self.weekdays
        ):
            raise ValueError(f"bad weekdays {self.weekdays!r}")
        if self.freq == "daily" and (self.weekdays or self.nth is not None):
            raise ValueError("a daily recurrence has no weekdays")
        if self.freq == "weekly" and (not self.weekdays or self.nth is not None):
            raise ValueError("a weekly recurrence needs weekdays and no nth")
        if self.freq == "monthly" and (len(self.weekdays) != 1 or self.nth not in _EN_NTH):
            raise ValueError("a monthly recurrence needs one weekday and nth in 1..4 or -1")

    def occurs_on(self, day: dt.date) -> bool:
        if self.freq == "daily":
            return True
        if day.weekday() not in self.weekdays:
            return False
        if self.freq == "weekly":
            return True
        if self.nth == -1:
            return (day + dt.timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.nth

    def next_after(self, after: dt.datetime) -> dt.datetime:
        """The first occurrence strictly after ``after`` (aware), in ``after``'s time zone."""
        tz = after.tzinfo
        if tz is None or after.utcoffset() is None:
            raise ValueError("next_after needs a timezone-aware datetime")
        day = after.date()
        # Five weeks cover every monthly rule; the bound only guards against a broken rule.
        for _ in range(40):
            if self.occurs_on(day):
                moment = combine_local(day, self.time, tz)
                if moment > after:
                    return moment
            day += dt.timedelta(days=1)
        raise AssertionError(f"no occurrence of {self!r} within 40 days")  # pragma: no cover

    def describe(self, lang: str) -> str:
        """Say the rule as "jeden Montag um 09:00 Uhr" / "every Monday at 09:00": the time
        written once, the way the confirmations around it write times."""
        de = lang[:2].lower() == "de"
        clock = f"um {self.time:%H:%M} Uhr" if de else f"at {self.time:%H:%M}"
        if self.freq == "daily":
            return f"{'täglich' if de else 'every day'} {clock}"
        names = DE_WEEKDAYS if de else EN_WEEKDAYS
        if self.freq == "monthly":
            assert self.nth is not None
            name = names[self.weekdays[0]]
            if de:
                return f"jeden {_DE_NTH[self.nth]} {name} im Monat {clock}"
            return f"every {_EN_NTH[self.nth]} {name} of the month {clock}"
        if sorted(self.weekdays) == list(_WORKDAYS):
            return f"{'werktags' if de else 'every weekday'} {clock}"
        days = [names[d] for d in sorted(self.weekdays)]
        listed = (
            days[0]
            if len(days) == 1
            else ", ".join(days[:-1]) + (" und " if de else " and ") + days[-1]
        )
        return f"{'jeden' if de else 'every'} {listed} {clock}"


# ---------------------------------------------------------------------------------------------
# Parsing

# fmt: off
_ORDINALS: dict[str, dict[str, int]] = {
    "de": {"erste": 1, "1.": 1, "zweite": 2, "2.": 2, "dritte": 3, "3.": 3, "vierte": 4,
           "4.": 4, "letzte": -1},
    "en": {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
           "4th": 4, "last": -1},
}
# fmt: on
_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "every": r"jede[nrs]?",
        "on": r"am|an",
        "week": r"woche",
        "weekly": r"woechentlich|immer",
        "daily": r"taeglich|jeden\s+tag",
        "workdays": r"werktags|werktaeglich|jeden\s+werktag|an\s+werktagen"
        r"|montags\s+bis\s+freitags",
        "monthly": r"monatlich|jeden\s+monat",
        "of_month": r"im\s+monat|jedes\s+monats|jeden\s+monats|des\s+monats|eines\s+monats"
        r"|eines\s+jeden\s+monats|in\s+jedem\s+monat",
        "and": r"und",
    },
    "en": {
        "every": r"every|each",
        "on": r"on",
        "week": r"week",
        "weekly": r"weekly",
        "daily": r"daily|every\s+day|each\s+day",
        "workdays": r"every\s+weekday|each\s+weekday|on\s+weekdays|weekdays|every\s+working\s+day",
        "monthly": r"monthly|every\s+month|each\s+month",
        "of_month": r"of\s+the\s+month|of\s+every\s+month|of\s+each\s+month|every\s+month"
        r"|each\s+month|a\s+month",
        "and": r"and",
    },
}


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class _Grammar:
    daily: re.Pattern[str]
    workdays: re.Pattern[str]
    weekly: tuple[re.Pattern[str], ...]
    monthly: tuple[re.Pattern[str], ...]
    weekday_of: dict[str, int]
    ordinal_of: dict[str, int]


@functools.cache
def _grammar(langs: frozenset[str]) -> _Grammar:
    weekday_of: dict[str, int] = {}
    plural: list[str] = []
    ordinal_of: dict[str, int] = {}
    for lang in sorted(langs):
        for i, spellings in enumerate(WEEKDAY_WORDS[lang]):
            names = spellings.split("|")
            weekday_of.update(dict.fromkeys(names, i))
            plural.append(names[0] + "s")  # "montags", "mondays"
            weekday_of[plural[-1]] = i
        for word, n in _ORDINALS[lang].items():
            ordinal_of[word] = n
            if lang == "de" and word[0].isalpha():
                for end in "nrs":
                    ordinal_of[word + end] = n

    def words(key: str) -> str:
        return "|".join(_WORDS[lang][key] for lang in sorted(langs))

    singular = [w for w in weekday_of if w not in plural]
    day = rf"(?:{_alt(singular)})\.?(?![a-z])"
    days_pl = rf"(?:{_alt(plural)})(?![a-z])"
    sep = rf"(?:\s*,\s*(?:(?:{words('and')})\s+)?|\s+(?:{words('and')})\s+)"

    def listed(group: str, one: str) -> str:
        return rf"(?P<{group}>{one}(?:{sep}{one})*)"

    day_list = listed("days", day)
    plural_list = listed("days", days_pl)
    on = rf"(?:(?:{words('on')})\s+)?"
    nth = rf"(?P<nth>{_alt(list(ordinal_of))})"
    one_day = rf"(?P<day>{day})"
    end = r"[,:;]*(?=\s|$)"
    return _Grammar(
        daily=re.compile(rf"(?:{words('daily')}){end}"),
        workdays=re.compile(rf"(?:{words('workdays')}){end}"),
        weekly=(
            re.compile(rf"(?:{words('every')})\s+(?:(?:{words('week')})\s+)?{on}{day_list}{end}"),
            re.compile(
                rf"(?:{words('weekly')})\s+{on}(?:{listed('d1', day)}|"
                rf"{plural_list}){end}"
            ),
            re.compile(rf"{plural_list}{end}"),
        ),
        monthly=(
            re.compile(
                rf"(?:(?:{words('every')}|{words('on')})\s+)?(?:the\s+)?{nth}\s+"
                rf"{one_day}\s+(?:{words('of_month')}){end}"
            ),
            re.compile(rf"(?:{words('monthly')})\s+{on}(?:the\s+)?{nth}\s+{one_day}{end}"),
        ),
        weekday_of=weekday_of,
        ordinal_of=ordinal_of,
    )


def _weekdays(listed: str, weekday_of: dict[str, int]) -> tuple[int, ...] | None:
    found: list[int] = []
    for word in re.findall(r"[a-z]+", listed):
        if word in weekday_of:
            found.append(weekday_of[word])
        elif word not in ("und", "and"):
            return None
    return tuple(sorted(set(found)))


_Found = tuple[Frequency, tuple[int, ...], int | None, int]


def _match(norm: str, grammar: _Grammar) -> _Found | None:
    """(frequency, weekdays, nth, end of the match) for the recurrence ``norm`` starts with."""
    if m := grammar.daily.match(norm):
        return "daily", (), None, m.end()
    if m := grammar.workdays.match(norm):
        return "weekly", _WORKDAYS, None, m.end()
    for rx in grammar.monthly:
        if m := rx.match(norm):
            wd = grammar.weekday_of[m["day"].rstrip(".")]
            return "monthly", (wd,), grammar.ordinal_of[m["nth"]], m.end()
    for rx in grammar.weekly:
        if m := rx.match(norm):
            listed = m.groupdict().get("days") or m.groupdict().get("d1") or ""
            days = _weekdays(listed, grammar.weekday_of)
            if days:
                return "weekly", days, None, m.end()
    return None


_CLOCK_LIKE = re.compile(r"\d{1,2}[:.]\d{2}")
_WORD = re.compile(r"\S+")
# "jeden Montag, Dienstag, Mittwoch, Donnerstag und Freitag um 9:00 Uhr" has 11 words.
_MAX_WORDS = 40


def parse_recurrence(
    text: str,
    *,
    default_time: dt.time = dt.time(9, 0),
    languages: Sequence[str] = ("de", "en"),
) -> tuple[Recurrence, str] | None:
    """The recurrence ``text`` starts with, and the rest of the text (the reminder's message).

    "jeden montag 9:00 Tagesordnung einreichen" -> (weekly Monday 09:00, "Tagesordnung
    einreichen"). Without a time of day, ``default_time``. None when the text does not start
    with a recurrence, or names an impossible time. "jeden zweiten Dienstag" without "im Monat"
    is None: it may mean every other Tuesday, which is not supported.
    """
    langs = frozenset(lang[:2].lower() for lang in languages) & {"de", "en"}
    if not langs:
        return None
    # A recurrence and its time are the first few words: the rest is never looked at.
    spans = [m.span() for m in itertools.islice(_WORD.finditer(text), _MAX_WORDS)]
    norm = " ".join(fold(text[a:b]) for a, b in spans)
    found = _match(norm, _grammar(langs))
    if found is None:
        return None
    freq, weekdays, nth, end = found
    used = norm[:end].count(" ") + 1
    clock: dt.time | None = None
    after = spans[used:]
    for size in (3, 2, 1):
        if len(after) < size:
            continue
        candidate = text[after[0][0] : after[size - 1][1]].rstrip(":,;-")
        clock = parse_clock(candidate, languages)
        if clock is not None:
            used += size
            break
    else:
        if after and _CLOCK_LIKE.match(text[after[0][0] : after[0][1]]):
            return None  # "jeden Montag 25:00 …": a broken time, not part of the message
    rest = text[spans[used - 1][1] :].strip(" \t\n:;,-–—")
    return Recurrence(freq, clock or default_time, weekdays, nth), rest
