"""The period a report, an evaluation or an export covers: whole local days, first and last
included, read in each room's own time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    """How the period was named: how a report names it again and what comes before it."""

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    DAYS = "days"


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    kind: PeriodKind = PeriodKind.DAYS

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        return self.last + dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def bounds(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as moments: midnight of the first day to midnight after the last."""
        return start_of(self.first, zone), start_of(self.end, zone)

    @property
    def label(self) -> str:
        """For file names: "2026", "2026-03", else "2026-01-01_2026-03-31"."""
        if self == year(self.first.year):
            return str(self.first.year)
        if self == month(self.first.year, self.first.month):
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    def before(self) -> Period:
        """The period of the same kind just before: the year, quarter or month before, or as
        many days before (what a report compares with)."""
        if self.kind is PeriodKind.YEAR:
            return year(self.first.year - 1)
        if self.kind is PeriodKind.QUARTER:
            y, m = shift_month(self.first.year, self.first.month, -3)
            return quarter(y, (m + 2) // 3)
        if self.kind is PeriodKind.MONTH:
            return month(*shift_month(self.first.year, self.first.month, -1))
        length = self.end - self.first
        return Period(self.first - length, self.first - dt.timedelta(days=1))


def window(period: Period, zones: Iterable[ZoneInfo]) -> tuple[dt.datetime, dt.datetime]:
    """From the earliest start to the latest end of the period in any of the zones: what a
    query over rooms in several zones reads, before each row is placed in its room's."""
    found = [period.bounds(z) for z in zones]
    return min(s for s, _ in found), max(e for _, e in found)


def start_of(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Local midnight; zoneinfo resolves a midnight that does not exist (a DST gap) itself."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def shift_month(y: int, m: int, months: int) -> tuple[int, int]:
    """The (year, month) `months` after (or before) the month `m` of year `y`."""
    index = y * 12 + (m - 1) + months
    return index // 12, index % 12 + 1


def month_end(y: int, m: int) -> dt.date:
    ny, nm = shift_month(y, m, 1)
    return dt.date(ny, nm, 1) - dt.timedelta(days=1)


def year(y: int) -> Period:
    return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), PeriodKind.YEAR)


def quarter(y: int, q: int) -> Period:
    return Period(dt.date(y, 3 * q - 2, 1), month_end(y, 3 * q), PeriodKind.QUARTER)


def month(y: int, m: int) -> Period:
    return Period(dt.date(y, m, 1), month_end(y, m), PeriodKind.MONTH)


def days(first: dt.date, last: dt.date) -> Period:
    """A range of days; a whole year, quarter or month is recognised as such."""
    for candidate in (
        year(first.year),
        quarter(first.year, (first.month + 2) // 3),
        month(first.year, first.month),
    ):
        if (candidate.first, candidate.last) == (first, last):
            return candidate
    return Period(first, last)


def previous_month(today: dt.date) -> Period:
    """The last whole month before `today`'s."""
    return month(*shift_month(today.year, today.month, -1))


def previous_quarter(today: dt.date) -> Period:
    """The last whole quarter before `today`'s."""
    y, m = shift_month(today.year, today.month, -3)
    return quarter(y, (m + 2) // 3)
