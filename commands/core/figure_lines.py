"""How every report says the read model's figures (storage/figures), each line naming the
cohort it counts: the leadership report, the evaluation and the overview print the same
numbers in the same words, so a reader can hold one against the other."""

from __future__ import annotations

from commands.core import i18n
from commands.core.rich import Rich
from storage.figures.agreements import AgreementFigures, Cohort


def percent(share: float | None) -> int | None:
    """A whole-number percentage of a share; None without a base."""
    return None if share is None else round(100 * share)


def recorded_line(lang: str, cohort: Cohort) -> Rich:
    """ "12 festgehalten, davon 9 erledigt, 7 fristgerecht, 2 überfällig"."""
    return i18n.t(
        lang,
        "figures.recorded",
        recorded=cohort.total,
        done=cohort.done,
        on_time=cohort.on_time,
        overdue=cohort.overdue,
    )


def punctuality(lang: str, f: AgreementFigures, key: str = "figures.punctuality") -> Rich:
    """ "7 von 10 im Zeitraum fälligen fristgerecht erledigt (70 %)": the due cohort; or
    that no due date of the period has passed yet (`<key>_none`)."""
    share = f.due.on_time_rate
    if share is None:
        return i18n.t(lang, key + "_none")
    return i18n.t(lang, key, met=f.due.on_time, due=f.due.total, percent=percent(share))


def done_line(lang: str, f: AgreementFigures) -> Rich:
    """ "5 im Zeitraum erledigt, davon 4 fristgerecht; Median 12 Tage bis erledigt"."""
    if not f.done:
        return i18n.t(lang, "figures.done_none")
    if f.median_days_to_done is None:
        # A sum of rooms' figures (AgreementFigures.__add__) knows no median.
        return i18n.t(lang, "figures.done_total", done=f.done, on_time=f.done_on_time)
    return i18n.t(
        lang,
        "figures.done",
        done=f.done,
        on_time=f.done_on_time,
        days=i18n.decimal(f.median_days_to_done, lang),
    )


def now_line(lang: str, f: AgreementFigures) -> Rich:
    """ "Heute offen: 8, davon 3 überfällig"."""
    return i18n.t(lang, "figures.now", open=f.open_now, overdue=f.overdue_now)
