"""What the leadership's report and its committee paper both say, in the same words: the
figures (commands.core.figure_lines), meetings, the pulse trend, the evaluation's
participation, and a text kept to a length a chat can show."""

from __future__ import annotations

from collections.abc import Callable

from commands.core import i18n
from commands.core.figure_lines import done_line, now_line, percent, punctuality, recorded_line
from commands.core.rich import Rich, text
from commands.desk.facts import Committee, Participation, PulseTrend
from storage.decisions import label
from storage.figures.agreements import AgreementFigures
from storage.figures.votes import MIN_ANSWERS, response_rate

# Plain characters beyond which the items are listed only up to a number per committee
# (the rest counted, `!export` named): with its HTML twin, about three messages.
DETAIL_LIMIT = 30_000
# The items listed per committee and list when the text would be longer, tried in turn.
SHORTER = (50, 20, 5, 0)

# The pulse trend: a change of less than this either way is "about the same".
TREND_STEP = 0.2


def agreement_lines(lang: str, f: AgreementFigures) -> list[Rich]:
    """The figures, each line naming the cohort it counts (commands.core.figure_lines)."""
    return [
        recorded_line(lang, f.recorded),
        punctuality(lang, f),
        done_line(lang, f),
        now_line(lang, f),
    ]


def meetings_line(lang: str, count: int) -> Rich:
    return i18n.t(lang, "desk.report.meetings", count=count)


def pulse_line(lang: str, trend: PulseTrend | None) -> Rich:
    if trend is None:
        return i18n.t(lang, "desk.report.pulse_none", min=MIN_ANSWERS)
    if trend.previous is None:
        compared = i18n.plain(lang, "desk.report.pulse_new")
    else:
        delta = trend.mean - trend.previous
        direction = "up" if delta >= TREND_STEP else "down" if delta <= -TREND_STEP else "same"
        compared = i18n.plain(
            lang,
            "desk.report.pulse_trend",
            previous=i18n.decimal(trend.previous, lang),
            direction=i18n.plain(lang, f"desk.report.pulse_{direction}"),
        )
    return i18n.t(
        lang,
        "desk.report.pulse",
        mean=i18n.decimal(trend.mean, lang),
        pulses=trend.counted,
        trend=compared,
    )


def participation_line(lang: str, p: Participation) -> Rich:
    return i18n.t(
        lang,
        "desk.report.participation",
        year=p.year,
        participated=p.participated,
        invited=p.invited,
        percent=percent(response_rate(p.participated, p.invited)),
    )


def decision_lines(lang: str, c: Committee) -> list[Rich]:
    """How many Beschlüsse the committee made in the period, then each with its number."""
    lines = [i18n.t(lang, "procedure_decisions.report.count", count=len(c.decisions))]
    for d in c.decisions:
        assert d.year is not None
        assert d.number is not None
        named = i18n.plain(lang, "procedure_decisions.beschluss", label=label(d.year, d.number))
        lines.append(
            i18n.t(lang, "procedure_decisions.report.line", beschluss=named, motion=text(d.text))
        )
    return lines


def committee_extras(lang: str, c: Committee) -> list[Rich]:
    """Meetings, decisions, pulse and evaluation: what the report and the paper add to the
    figures."""
    found = [meetings_line(lang, c.meetings), *decision_lines(lang, c), pulse_line(lang, c.pulse)]
    if c.participation is not None:
        found.append(participation_line(lang, c.participation))
    return found


def fitting(render: Callable[[int | None], Rich]) -> Rich:
    """The full text if it is short enough to read in the chat, else the longest shortened
    one that is, else the shortest."""
    found = render(None)
    for shown in SHORTER:
        if len(found.plain) <= DETAIL_LIMIT:
            break
        found = render(shown)
    return found
