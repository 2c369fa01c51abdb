"""What the room report, the table of all committees and the chart compute alike.

Only what may be shown: a statement or pulse with fewer than MIN_BREAKDOWN answers adds
nothing to a mean (its count alone may be shown), so that nobody can infer what an
individual answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from commands.core import i18n
from commands.core.rich import Rich
from commands.polls.common import MIN_BREAKDOWN
from storage.evaluation import AgreementFigures, Distribution, Pulse, Statement
from storage.models import Survey


@dataclass(frozen=True)
class Month:
    """The pulses of one month that count: their pooled mean and how many there were."""

    month: int
    mean: float
    pulses: int


def shown(distribution: Distribution) -> bool:
    return distribution.answers >= MIN_BREAKDOWN


def survey_running(survey: Survey) -> bool:
    """Not ended by its timer yet: answers may still come in (one sent before the end
    and read late counts too), so none of its figures may be shown, only participation."""
    return survey.closed_at is None


def pooled_mean(distributions: Iterable[Distribution]) -> float | None:
    """The mean of all answers of those that may be shown; None when none may."""
    counted = [d for d in distributions if shown(d)]
    answers = sum(d.answers for d in counted)
    return sum(d.total for d in counted) / answers if answers else None


def statement_mean(statement: Statement) -> float | None:
    return statement.distribution.mean if shown(statement.distribution) else None


def trend(pulses: Sequence[Pulse]) -> list[Month]:
    """Per month with counted pulses: the mean of their answers and their number."""
    months: dict[int, list[Distribution]] = {}
    for pulse in pulses:
        if shown(pulse.distribution):
            months.setdefault(pulse.month, []).append(pulse.distribution)
    found: list[Month] = []
    for month in sorted(months):
        mean = pooled_mean(months[month])
        assert mean is not None
        found.append(Month(month, mean, len(months[month])))
    return found


def rate(part: int, whole: int) -> int | None:
    """A whole-number percentage; None without a base."""
    return round(100 * part / whole) if whole else None


def on_time_rate(figures: AgreementFigures) -> int | None:
    return rate(figures.on_time, figures.done)


def mean_text(value: float | None, lang: str) -> str:
    return (
        i18n.decimal(value, lang)
        if value is not None
        else i18n.plain(lang, "evaluation_report.none")
    )


def percent_text(value: int | None, lang: str) -> str:
    if value is None:
        return i18n.plain(lang, "evaluation_report.none")
    return i18n.plain(lang, "evaluation_report.percent", value=value)


def with_previous(line: Rich, previous: str | None, lang: str) -> Rich:
    """The line, followed by last year's figure where there is one."""
    if previous is None:
        return line
    return line + " " + i18n.t(lang, "evaluation_report.previous", value=previous)
