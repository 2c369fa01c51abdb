"""What the room report, the table of all committees and the chart say alike.

Every figure is the read model's (storage.figures.votes): a statement or pulse with fewer
than MIN_ANSWERS real answers adds nothing to a mean or a rate (its count alone may be
shown), so that nobody can infer what an individual answered; "cannot judge" is counted
apart and never in a mean, a rate or the minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from commands.core import i18n
from commands.core.figure_lines import percent
from commands.core.rich import Rich
from commands.parsing.date_words import DE_MONTHS, EN_MONTHS
from storage.figures.period import Period, PeriodKind
from storage.figures.votes import Distribution, Pulse, pooled
from storage.models import Survey

_K = "evaluation_report."


@dataclass(frozen=True)
class Month:
    """The pulses of one month: their pooled answers (those that count) and how many
    counted."""

    year: int
    month: int
    distribution: Distribution
    pulses: int

    @property
    def mean(self) -> float:
        mean = self.distribution.mean
        assert mean is not None  # a Month has at least one counted pulse
        return mean


def survey_running(survey: Survey) -> bool:
    """Not ended by its timer yet: answers may still come in (one sent before the end
    and read late counts too), so none of its figures may be shown, only participation."""
    return survey.closed_at is None


def trend(pulses: Sequence[Pulse]) -> list[Month]:
    """Per month with counted pulses, oldest first: their pooled answers and number."""
    months: dict[tuple[int, int], list[Distribution]] = {}
    for pulse in pulses:
        months.setdefault((pulse.day.year, pulse.day.month), []).append(pulse.distribution)
    found: list[Month] = []
    for (y, m), found_in_month in sorted(months.items()):
        counted = sum(1 for d in found_in_month if d.shown)
        if counted:
            found.append(Month(y, m, pooled(found_in_month), counted))
    return found


def months_of(period: Period) -> list[tuple[int, int]]:
    """The months (year, month) the period touches, in order: the chart's axis."""
    found: list[tuple[int, int]] = []
    y, m = period.first.year, period.first.month
    while (y, m) <= (period.last.year, period.last.month):
        found.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return found


def month_name(month: int, lang: str) -> str:
    return (EN_MONTHS if lang == "en" else DE_MONTHS)[month - 1]


def decimal_text(value: float | None, lang: str) -> str:
    return i18n.decimal(value, lang) if value is not None else i18n.plain(lang, _K + "none")


def percent_text(value: float | None, lang: str) -> str:
    """A share as "71 %"; "–" without a base."""
    whole = percent(value)
    if whole is None:
        return i18n.plain(lang, _K + "none")
    return i18n.plain(lang, _K + "percent", value=whole)


def rating_text(d: Distribution, lang: str) -> str:
    """A shown distribution's mean and agreement rate: "3,4 / 60 %" (the previous year's)."""
    return f"{decimal_text(d.mean, lang)} / {percent_text(d.agreement_rate, lang)}"


# What the period before is called, by the kind of period.
_BEFORE = {
    PeriodKind.YEAR: "previous",
    PeriodKind.QUARTER: "previous_quarter",
    PeriodKind.MONTH: "previous_month",
    PeriodKind.DAYS: "previous_days",
}


def with_previous(
    line: Rich, previous: str | None, lang: str, kind: PeriodKind = PeriodKind.YEAR
) -> Rich:
    """The line, followed by the figure of the period before (the year before, unless
    `kind` says another) where there is one."""
    if previous is None:
        return line
    return line + " " + i18n.t(lang, _K + _BEFORE[kind], value=previous)
