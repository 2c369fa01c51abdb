"""The period a report covers: `!bericht` (the last full month), `!bericht Oktober`
(the latest October that has begun), `!bericht Oktober 2025`, `!bericht 10/2025`,
`!bericht 2025-10`, `!bericht 2026` (a year)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from commands.core.registry import fold
from commands.parsing.date_words import DE_MONTHS, EN_MONTHS
from storage.figures import Period

_MONTHS: dict[str, int] = {}
for _i, (_de, _en) in enumerate(zip(DE_MONTHS, EN_MONTHS, strict=True), start=1):
    for _word in (_de, _en, _de[:3], _en[:3]):
        _MONTHS[fold(_word)] = _i
_MONTHS.update({"sept": 9, "jaenner": 1, "maerz": 3})

_YEAR = re.compile(r"(\d{4})")
_MONTH_YEAR = re.compile(r"(\d{1,2})\s*[/.]\s*(\d{4})|(\d{4})-(\d{1,2})")
# Reports about the distant past or future are typing mistakes.
_FIRST_YEAR = 2000


@dataclass(frozen=True)
class Asked:
    period: Period
    # The month (1–12) or None for a whole year: how the report names the period.
    month: int | None
    year: int


def month_of(day: dt.date) -> Asked:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return Asked(Period(start, end), start.month, start.year)


def previous_month(today: dt.date) -> Asked:
    return month_of(today.replace(day=1) - dt.timedelta(days=1))


def parse_period(value: str, today: dt.date) -> Asked | None:
    """The period `value` names; None when it names none, or one that has not begun."""
    words = fold(value).replace(",", " ").split()
    if not words:
        return previous_month(today)
    asked: Asked | None = None
    joined = " ".join(words)
    if m := _MONTH_YEAR.fullmatch(joined):
        month, year = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
        asked = _month(year, month)
    elif m := _YEAR.fullmatch(joined):
        year = int(m[1])
        if year > today.year:  # not begun (and 9999 has no end within the calendar)
            return None
        asked = Asked(Period(dt.date(year, 1, 1), dt.date(year + 1, 1, 1)), None, year)
    elif words[0].rstrip(".") in _MONTHS and len(words) <= 2:
        month = _MONTHS[words[0].rstrip(".")]
        if len(words) == 2:
            if not _YEAR.fullmatch(words[1]):
                return None
            asked = _month(int(words[1]), month)
        else:
            year = today.year if month <= today.month else today.year - 1
            asked = _month(year, month)
    if asked is None or asked.period.start is None:
        return None
    if asked.period.start > today or asked.year < _FIRST_YEAR:
        return None
    return asked


def _month(year: int, month: int) -> Asked | None:
    if not 1 <= month <= 12 or not 1 <= year <= 9998:
        return None
    return month_of(dt.date(year, month, 1))
