"""One committee's evaluation report for a period: the annual survey of the year the
period ends in (with the year before), the measures taken on the evaluations, the
period's pulses and agreements, and a chart.

Names no member: participation is a count, statements are counted answers, free texts are
shown in random order and only from MIN_ANSWERS of them on, measures without their
owners. A statement with fewer than MIN_ANSWERS real answers shows only that count (not
even how many could not judge it). Of a survey still running only the participation is
shown: figures asked for again after the next member answered would show exactly that
member's answers (the difference attack), so means, distributions and free texts are not
even read until it has ended.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context
from commands.core.effects import AnyEffect, Image, Reply, png_size
from commands.core.figure_lines import done_line, punctuality, recorded_line
from commands.core.rich import Rich, bold, text
from commands.core.room_names import room_label
from commands.evaluation import chart
from commands.evaluation.figures import (
    decimal_text,
    month_name,
    months_of,
    percent_text,
    rating_text,
    survey_running,
    trend,
    with_previous,
)
from commands.evaluation.measures import measure_command, measure_line
from commands.parsing.dates import format_datetime
from commands.parsing.periods import period_label
from storage import evaluation
from storage.evaluation import Statement
from storage.figures.agreements import AgreementFigures, agreement_figures
from storage.figures.period import Period, PeriodKind
from storage.figures.votes import (
    MIN_ANSWERS,
    Pulse,
    PulseFigures,
    pulse_figures,
    pulses,
    response_rate,
)
from storage.models import Agreement, Survey

_K = "evaluation_report."
_BLANK = Rich("", "")  # an empty line between sections


@dataclass(frozen=True)
class SurveyYear:
    survey: Survey
    # Empty while the survey runs (survey_running): only its participation is shown.
    statements: list[Statement]
    participants: int

    @property
    def running(self) -> bool:
        return survey_running(self.survey)

    @property
    def participation(self) -> float | None:
        return response_rate(self.participants, self.survey.invited)


@dataclass(frozen=True)
class RoomPeriod:
    """Everything the report of one room and period shows, read in a few queries."""

    period: Period
    # The year of the survey shown: the year the period ends in.
    year: int
    survey: SurveyYear | None
    previous_survey: SurveyYear | None
    comments: list[str]
    pulses: list[Pulse]
    # The period's pulses together: counted, left out for too few answers, pooled.
    pulse_totals: PulseFigures
    agreements: AgreementFigures
    previous_agreements: AgreementFigures
    # Measures taken on the evaluations of the year before and of this year.
    measures: list[Agreement]
    # This year's survey is the room's latest ended one: measures are taken on it now.
    takes_measures: bool


def load(db: Session, room: str, tz: ZoneInfo, now: dt.datetime, period: Period) -> RoomPeriod:
    """The room's figures for the period (the chat's report and the PDF read the same)."""
    year = period.last.year
    found = [evaluation.survey_of(db, room, y) for y in (year, year - 1)]
    ids = [s.id for s in found if s is not None and s.id is not None]
    ended = [s.id for s in found if s is not None and s.id is not None and not survey_running(s)]
    statements = evaluation.statements(db, ended)
    participants = evaluation.participants(db, ids)

    def survey_year(survey: Survey | None) -> SurveyYear | None:
        if survey is None or survey.id is None:
            return None
        return SurveyYear(survey, statements.get(survey.id, []), participants[survey.id])

    current = survey_year(found[0])
    zones = {room: tz}
    asked = pulses(db, period, zones)
    latest = evaluation.latest_ended(db, room)
    taken_now = latest is not None and current is not None and latest.id == current.survey.id
    return RoomPeriod(
        period=period,
        year=year,
        survey=current,
        previous_survey=survey_year(found[1]),
        comments=(
            evaluation.comments(db, current.survey.id)
            if current is not None and current.survey.id is not None and not current.running
            else []
        ),
        pulses=asked,
        pulse_totals=pulse_figures(asked, [room])[room],
        agreements=agreement_figures(db, period, zones, now)[room],
        previous_agreements=agreement_figures(db, period.before(), zones, now)[room],
        measures=evaluation.measures(db, room, [year - 1, year]),
        takes_measures=taken_now,
    )


def room_report(ctx: Context, period: Period) -> list[AnyEffect]:
    """The report as one message, and its chart (shown in the timeline) when there is
    anything to draw."""
    data = load(ctx.db, ctx.room_id, ctx.tz, ctx.now, period)
    lang = ctx.lang
    room = room_label(ctx.db, ctx.room_id, lang)
    name = period_label(lang, period)
    if period.kind is PeriodKind.YEAR:
        title = i18n.t(lang, _K + "title", year=data.year, room=bold(room))
    else:
        title = i18n.t(lang, _K + "title_period", period=name, room=bold(room), year=data.year)
    lines: list[Rich] = [title]
    lines += [_BLANK, *_survey(ctx, data)]
    measures = _measures(ctx, data)
    if measures:
        lines += [_BLANK, *measures]
    lines += [_BLANK, *_pulses(data, lang)]
    lines += [_BLANK, *agreement_lines(data, lang)]
    effects: list[AnyEffect] = [Reply(Rich.join(lines), in_reply_to=ctx.event_id)]
    drawing = chart_data(data)
    if drawing.statements or drawing.left_out or drawing.months:
        png = chart.png(drawing, lang)
        width, height = png_size(png)
        effects.append(
            Image(
                filename=f"auswertung-{period.label}.png",
                mimetype="image/png",
                data=png,
                width=width,
                height=height,
                caption=i18n.t(lang, _K + "chart_caption", period=name, room=text(room)),
            )
        )
    return effects


# --------------------------------------------------------------------------------- survey


def _survey(ctx: Context, data: RoomPeriod) -> list[Rich]:
    lang = ctx.lang
    lines = [i18n.t(lang, _K + "survey_title", year=data.year)]
    current, previous = data.survey, data.previous_survey
    if current is None:
        return [*lines, i18n.t(lang, _K + "survey_none", year=data.year)]
    survey = current.survey
    if current.running:
        until = format_datetime(survey.closes_at.astimezone(ctx.tz), lang)
        lines.append(i18n.t(lang, _K + "survey_running", until=until))
        lines.append(participation_line(current, previous, lang))
        return lines
    lines.append(participation_line(current, previous, lang))
    if any(s.distribution.shown for s in current.statements):
        lines.append(i18n.t(lang, _K + "agreement_legend"))
    lines += _statements(current, previous, lang)
    lines += _free_texts(survey, data.comments, lang)
    return lines


def participation_line(current: SurveyYear, previous: SurveyYear | None, lang: str) -> Rich:
    invited = current.survey.invited
    if not invited:
        return i18n.t(lang, _K + "participation_no_base", participants=current.participants)
    line = i18n.t(
        lang,
        _K + "participation",
        participants=current.participants,
        invited=invited,
        rate=percent_text(current.participation, lang),
    )
    before = previous.participation if previous is not None else None
    return with_previous(line, percent_text(before, lang) if before is not None else None, lang)


def _statements(current: SurveyYear, previous: SurveyYear | None, lang: str) -> list[Rich]:
    if not current.statements:
        return [i18n.t(lang, _K + "statements_none")]
    before = {s.text: s.distribution for s in previous.statements} if previous else {}
    lines: list[Rich] = []
    for number, statement in enumerate(current.statements, 1):
        lines.append(i18n.t(lang, _K + "statement", number=number, statement=text(statement.text)))
        d = statement.distribution
        if not d.shown:
            # Not even how many could not judge it: with two real answers that would
            # tell the two what the others did.
            lines.append(i18n.t(lang, _K + "statement_too_few", answers=d.answers, min=MIN_ANSWERS))
            continue
        one, two, three, four, five = d.counts
        figures = i18n.t(
            lang,
            _K + "statement_figures",
            mean=decimal_text(d.mean, lang),
            answers=d.answers,
            agree=percent_text(d.agreement_rate, lang),
            distribution=i18n.t(
                lang, _K + "distribution", one=one, two=two, three=three, four=four, five=five
            ),
        )
        if d.not_judged:
            figures = figures + " · " + i18n.t(lang, _K + "not_judged", count=d.not_judged)
        last = before.get(statement.text)
        shown_before = rating_text(last, lang) if last is not None and last.shown else None
        lines.append(with_previous(figures, shown_before, lang))
    return lines


def _free_texts(survey: Survey, comments: list[str], lang: str) -> list[Rich]:
    if not comments:
        return []
    if len(comments) < MIN_ANSWERS:
        return [i18n.t(lang, _K + "free_too_few", count=len(comments), min=MIN_ANSWERS)]
    title = (
        i18n.t(lang, _K + "free_title", question=text(survey.free_question))
        if survey.free_question
        else i18n.t(lang, _K + "free_title_plain")
    )
    shuffled = list(comments)
    # The stored order is the order of answering: it must not show through.
    random.SystemRandom().shuffle(shuffled)
    return [title, *(i18n.t(lang, _K + "free_answer", text=text(c)) for c in shuffled)]


# ------------------------------------------------------------------------------- measures


def _measures(ctx: Context, data: RoomPeriod) -> list[Rich]:
    """What the committee set out to change on the evaluation of the year before (beside
    this year's figures, which show whether it helped) and on this year's."""
    lang = ctx.lang
    lines: list[Rich] = []
    for year in (data.year - 1, data.year):
        taken = [a for a in data.measures if a.measure_year == year]
        if taken:
            lines.append(i18n.t(lang, _K + "measures_title", year=year))
            lines += [measure_line(ctx, a) for a in taken]
    if data.takes_measures and not any(a.measure_year == data.year for a in data.measures):
        lines.append(i18n.t(lang, _K + "measures_title", year=data.year))
        lines.append(i18n.t(lang, _K + "measures_none_yet", cmd=measure_command(ctx)))
    return lines


# --------------------------------------------------------------------------------- pulses


def _pulses(data: RoomPeriod, lang: str) -> list[Rich]:
    name = period_label(lang, data.period)
    lines = [i18n.t(lang, _K + "pulses_title", period=name, min=MIN_ANSWERS)]
    months = trend(data.pulses)
    if not months:
        lines.append(i18n.t(lang, _K + "pulses_none", min=MIN_ANSWERS))
    several_years = data.period.first.year != data.period.last.year
    for m in months:
        key = "pulse_month_one" if m.pulses == 1 else "pulse_month_many"
        month = month_name(m.month, lang) + (f" {m.year}" if several_years else "")
        lines.append(
            i18n.t(lang, _K + key, month=month, mean=i18n.decimal(m.mean, lang), pulses=m.pulses)
        )
    total = data.pulse_totals
    if total.counted > 1 and total.mean is not None:
        key = "pulses_year" if data.period.kind is PeriodKind.YEAR else "pulses_period"
        mean = i18n.decimal(total.mean, lang)
        lines.append(i18n.t(lang, _K + key, mean=mean, pulses=total.counted))
    if total.left_out:
        lines.append(i18n.t(lang, _K + "pulses_left_out", count=total.left_out, min=MIN_ANSWERS))
    return lines


# ----------------------------------------------------------------------------- agreements


def agreement_lines(data: RoomPeriod, lang: str) -> list[Rich]:
    """The read model's cohorts in the words every report uses (figure_lines)."""
    f = data.agreements
    lines = [i18n.t(lang, _K + "agreements_title", period=period_label(lang, data.period))]
    if f.recorded.total == 0 and f.due.total == 0 and f.done == 0:
        lines.append(i18n.t(lang, _K + "agreements_none"))
    else:
        before = data.previous_agreements.due.on_time_rate
        on_time = punctuality(lang, f)
        if f.due.total and before is not None:
            on_time = with_previous(on_time, percent_text(before, lang), lang, data.period.kind)
        lines.extend(
            i18n.t(lang, _K + "figure_line", line=line)
            for line in (recorded_line(lang, f.recorded), on_time, done_line(lang, f))
        )
    if f.cancelled:
        lines.append(i18n.t(lang, _K + "agreements_cancelled", cancelled=f.cancelled))
    return lines


# ---------------------------------------------------------------------------------- chart


def chart_data(data: RoomPeriod) -> chart.ChartData:
    statements = data.survey.statements if data.survey is not None else []
    means = [(s.text, m) for s in statements if s.distribution.shown and (m := s.distribution.mean)]
    return chart.ChartData(
        statements=means,
        left_out=len(statements) - len(means),
        months=trend(data.pulses),
        axis=months_of(data.period),
    )
