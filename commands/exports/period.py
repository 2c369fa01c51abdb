"""Reading the period of an export, as the coordination writes it: "2026", "März",
"März 2026", "Januar bis März", "01.01.2026–31.03.2026", "2026-01-01 bis 2026-03-31",
"letztes Jahr", "dieser Monat", "Q1 2026" (and in English). A period is whole days,
first and last included; what cannot be read is refused, never guessed. A period lies
between 2000 and as many years ahead as a due date may (dates.YEARS_AHEAD_LIMIT): the
bot holds nothing outside, and "01.01.0001–31.12.9999" would overflow the calendar."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from commands.core.when import combine_local
from commands.parsing.date_words import fold
from commands.parsing.dates import YEARS_AHEAD_LIMIT

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
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_QUARTER = re.compile(r"q([1-4])(?:\s*(\d{4}))?|([1-4])\.\s*quartal(?:\s*(\d{4}))?")
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
}


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as moments: midnight of the first day to midnight after the last."""
        start = combine_local(self.first, dt.time(0), tz)
        end = combine_local(self.last + dt.timedelta(days=1), dt.time(0), tz)
        return start, end

    @property
    def label(self) -> str:
        """For file names: "2026", "2026-03", else "2026-01-01_2026-03-31"."""
        whole_year = (self.first.month, self.first.day, self.last.month, self.last.day) == (
            1,
            1,
            12,
            31,
        )
        if whole_year and self.first.year == self.last.year:
            return str(self.first.year)
        if self.first.day == 1 and self.last == _month_end(self.first.year, self.first.month):
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


class PeriodError(ValueError):
    """`key` names the catalogue message (export.period.*), `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def last_year(today: dt.date) -> int:
    """The last year an export period may reach."""
    return today.year + YEARS_AHEAD_LIMIT


def check_range(period: Period, today: dt.date) -> Period:
    """The period, if it lies within FIRST_YEAR .. last_year(today); else PeriodError."""
    if period.first.year < FIRST_YEAR or period.last.year > last_year(today):
        raise PeriodError("export.period.out_of_range", first=FIRST_YEAR, last=last_year(today))
    return period


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _one(text: str, today: dt.date, default_year: int | None) -> Period | None:
    """One side of a range, or a whole period: a year, month, quarter, relative, or day."""
    s = text.strip().strip(",")
    if s in _RELATIVE:
        unit, offset = _RELATIVE[s]
        if unit == "year":
            year = today.year + offset
            return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
        month_index = today.year * 12 + today.month - 1 + offset
        year, month = divmod(month_index, 12)
        return Period(dt.date(year, month + 1, 1), _month_end(year, month + 1))
    if re.fullmatch(r"\d{4}", s):
        year = int(s)
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    if m := _QUARTER.fullmatch(s):
        quarter = int(m[1] or m[3])
        year = int(m[2] or m[4] or default_year or today.year)
        first = dt.date(year, quarter * 3 - 2, 1)
        return Period(first, _month_end(year, quarter * 3))
    words = s.split()
    if words and words[0].rstrip(".") in _MONTHS and len(words) <= 2:
        month = _MONTHS[words[0].rstrip(".")]
        if len(words) == 2 and not re.fullmatch(r"\d{4}", words[1]):
            return None
        year = int(words[1]) if len(words) == 2 else (default_year or today.year)
        return Period(dt.date(year, month, 1), _month_end(year, month))
    day = parse_day(s, default_year or today.year)
    return Period(day, day) if day is not None else None


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
            return _checked(Period(start.first, end.last), today)
    if beyond:
        raise PeriodError("export.period.out_of_range", first=FIRST_YEAR, last=last_year(today))
    raise PeriodError("export.period.unreadable")


def _checked(period: Period, today: dt.date) -> Period:
    check_range(period, today)
    if period.last < period.first:
        raise PeriodError("export.period.reversed")
    return period
