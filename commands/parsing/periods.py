"""The one period language of `!bericht`, `!auswertung`, `!export` and `gremienbot export`,
as the coordination writes it: a year ("2026", "dieses Jahr", "letztes Jahr"), a quarter
("Q1 2026", "1. Quartal", "letztes Quartal"), a month ("November 2026", "März",
"letzter Monat"), a range of dates ("Januar bis März", "01.01.2026–31.03.2026",
"2026-01-01 bis 2026-03-31"), and the same in English. A bare month or quarter is the
latest one that has begun. A period is whole days, first and last included; what cannot
be read is refused with the list of forms, never guessed. A period lies between 2000 and
as many years ahead as a due date may (dates.YEARS_AHEAD_LIMIT): the bot holds nothing
outside, and "01.01.0001–31.12.9999" would overflow the calendar."""

from __future__ import annotations

import datetime as dt
import re

from commands.core import i18n
from commands.core.errors import CommandError
from commands.parsing.date_words import DE_MONTHS, EN_MONTHS, fold
from commands.parsing.dates import YEARS_AHEAD_LIMIT
from storage.figures.period import Period, PeriodKind, days, month, quarter, year

_MONTHS = {
    # German and English month names and abbreviations, folded (März = maerz).
    **{w: i for i, words in enumerate(
        ("januar|jan|jaenner|january", "februar|feb|february", "maerz|maer|mrz|march|mar",
         "april|apr", "mai|may", "juni|jun|june", "juli|jul|july", "august|aug",
         "september|sep|sept", "oktober|okt|october|oct", "november|nov",
         "dezember|dez|december|dec"), 1) for w in words.split("|")},
}  # fmt: skip
_RANGE_WORD = re.compile(r"\s+(?:bis|to|until)\s+")
_FROM = re.compile(r"^(?:von|vom|from|ab)\s+")
_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})?")
# "10/2025", "10.2025", "2025-10": a month by number.
_MONTH_NUMBER = re.compile(r"(\d{1,2})\s*[/.]\s*(\d{4})|(\d{4})-(\d{1,2})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_QUARTER = re.compile(
    r"q([1-4])(?:\s*(\d{4}))?"
    r"|([1-4])(?:\.|st|nd|rd|th)?\s*(?:quartal|quarter)(?:\s*(\d{4}))?"
)
# The first year an export period may name; the last is this year + YEARS_AHEAD_LIMIT.
FIRST_YEAR = 2000
_RELATIVE = {
    "letztes jahr": ("year", -1),
    "vorjahr": ("year", -1),
    "last year": ("year", -1),
    "dieses jahr": ("year", 0),
    "this year": ("year", 0),
    "letzter monat": ("month", -1),
    "letzten monat": ("month", -1),
    "vormonat": ("month", -1),
    "last month": ("month", -1),
    "dieser monat": ("month", 0),
    "diesen monat": ("month", 0),
    "this month": ("month", 0),
    "letztes quartal": ("quarter", -1),
    "letzten quartal": ("quarter", -1),
    "vorquartal": ("quarter", -1),
    "quartal": ("quarter", -1),
    "last quarter": ("quarter", -1),
    "quarter": ("quarter", -1),
    "dieses quartal": ("quarter", 0),
    "this quarter": ("quarter", 0),
}


class PeriodError(ValueError):
    """`key` names the catalogue message (period.*), `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def refusal(exc: PeriodError, value: str) -> CommandError:
    """The answer to a period that cannot be used, with the forms that can."""
    return CommandError(exc.key, value=value.strip(), **exc.values)


def last_year(today: dt.date) -> int:
    """The last year an export period may reach."""
    return today.year + YEARS_AHEAD_LIMIT


def check_range(period: Period, today: dt.date) -> Period:
    """The period, if it lies within FIRST_YEAR .. last_year(today); else PeriodError."""
    if period.first.year < FIRST_YEAR or period.last.year > last_year(today):
        raise PeriodError("period.out_of_range", first=FIRST_YEAR, last=last_year(today))
    return period


def _one(text: str, today: dt.date, default_year: int | None) -> Period | None:
    """One side of a range, or a whole period: a year, month, quarter, relative, or day."""
    s = text.strip().strip(",")
    if s in _RELATIVE:
        unit, offset = _RELATIVE[s]
        if unit == "year":
            return year(today.year + offset)
        if unit == "quarter":
            y, q = divmod(today.year * 4 + (today.month - 1) // 3 + offset, 4)
            return quarter(y, q + 1)
        y, index = divmod(today.year * 12 + today.month - 1 + offset, 12)
        return month(y, index + 1)
    if re.fullmatch(r"\d{4}", s):
        return year(int(s))
    if found := _QUARTER.fullmatch(s):
        q = int(found[1] or found[3])
        written = found[2] or found[4]
        if written or default_year:
            return quarter(int(written or default_year or 0), q)
        # The latest such quarter that has begun.
        return quarter(today.year if 3 * q - 2 <= today.month else today.year - 1, q)
    words = s.split()
    if words and words[0].rstrip(".") in _MONTHS and len(words) <= 2:
        number = _MONTHS[words[0].rstrip(".")]
        if len(words) == 2:
            return month(int(words[1]), number) if re.fullmatch(r"\d{4}", words[1]) else None
        if default_year:
            return month(default_year, number)
        return month(today.year if number <= today.month else today.year - 1, number)
    if found := _MONTH_NUMBER.fullmatch(s):
        y, number = (int(found[2]), int(found[1])) if found[1] else (int(found[3]), int(found[4]))
        return month(y, number) if 1 <= number <= 12 else None
    day = parse_day(s, default_year or today.year)
    return days(day, day) if day is not None else None


def parse_day(text: str, default_year: int | None = None) -> dt.date | None:
    """A day as "31.03.2026", "31.3." (with `default_year`) or "2026-03-31"."""
    s = text.strip()
    try:
        if m := _ISO.fullmatch(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _DAY.fullmatch(s)) and (m[3] or default_year):
            return dt.date(int(m[3] or default_year or 0), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def parse_period(text: str, today: dt.date) -> Period:
    """The period `text` names; PeriodError when it names none, ends before it starts, or
    lies outside the years an export may name (check_range)."""
    s = _FROM.sub("", fold(text).strip())
    s = s.replace("–", "-").replace("—", "-")
    # A year the calendar has no room for (0000, or 9999's month after December) makes
    # dt.date refuse: not an unreadable period but one out of range.
    beyond = False

    def one(part: str, default_year: int | None) -> Period | None:
        nonlocal beyond
        try:
            return _one(part, today, default_year)
        except (ValueError, OverflowError):
            beyond = True
            return None

    whole = one(s, None)
    if whole is not None:
        return _checked(whole, today)
    # A range: the year written on its end counts for its start too ("Januar bis März 2025").
    # A dash may also be part of a date (2026-01-01): try each one.
    if m := _RANGE_WORD.search(s):
        splits = [(s[: m.start()], s[m.end() :])]
    else:
        splits = [(s[:i], s[i + 1 :]) for i, ch in enumerate(s) if ch == "-"]
    for head, tail in splits:
        end = one(tail, None)
        start = one(head, end.last.year) if end is not None else None
        if start is not None and end is not None:
            return _checked(days(start.first, end.last), today)
    if beyond:
        raise PeriodError("period.out_of_range", first=FIRST_YEAR, last=last_year(today))
    raise PeriodError("period.unreadable")


def _checked(period: Period, today: dt.date) -> Period:
    if period.last < period.first:
        raise PeriodError("period.reversed")
    return check_range(period, today)


def parse_past_period(text: str, today: dt.date) -> Period:
    """A period that has begun (a report's): PeriodError("period.not_begun") otherwise."""
    period = parse_period(text, today)
    if period.first > today:
        raise PeriodError("period.not_begun")
    return period


def past_period(text: str, today: dt.date) -> Period:
    """parse_past_period for a command: what cannot be used is answered (refusal)."""
    try:
        return parse_past_period(text, today)
    except PeriodError as exc:
        raise refusal(exc, text) from None


# ------------------------------------------------------------------------ naming a period


def short_date(day: dt.date, lang: str) -> str:
    """A date the same width in every row of a table: "15.09.2026" / "15 Sep 2026"."""
    if lang == "en":
        return f"{day.day} {EN_MONTHS[day.month - 1][:3]} {day.year}"
    return f"{day:%d.%m.%Y}"


def period_label(lang: str, period: Period) -> str:
    """How every report names its period: "2026", "1. Quartal 2026", "März 2026",
    "01.01.2026–15.02.2026"."""
    first = period.first
    if period.kind is PeriodKind.YEAR:
        return str(first.year)
    if period.kind is PeriodKind.QUARTER:
        return i18n.plain(lang, "period.quarter", quarter=(first.month + 2) // 3, year=first.year)
    if period.kind is PeriodKind.MONTH:
        months = EN_MONTHS if lang == "en" else DE_MONTHS
        return f"{months[first.month - 1]} {first.year}"
    return f"{short_date(first, lang)}–{short_date(period.last, lang)}"
