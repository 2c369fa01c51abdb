"""One committee's evaluation report for a year: survey, pulses, agreements, and a chart.

Names no member: participation is a count, statements are counted answers, free texts are
shown in random order and only from MIN_BREAKDOWN of them on. Of a survey still running
only the participation is shown: figures asked for again after the next member answered
would show exactly that member's answers (the difference attack), so means,
distributions and free texts are not even read until it has ended.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from commands.core import i18n
from commands.core.context import Context
from commands.core.effects import AnyEffect, File, Reply
from commands.core.rich import Rich, bold, text
from commands.core.room_names import room_label
from commands.evaluation import chart
from commands.evaluation.figures import (
    on_time_rate,
    percent_text,
    pooled_mean,
    rate,
    shown,
    statement_mean,
    survey_running,
    trend,
    with_previous,
)
from commands.parsing.date_words import DE_MONTHS, EN_MONTHS
from commands.parsing.dates import format_datetime
from commands.polls.common import MIN_BREAKDOWN
from storage import evaluation
from storage.evaluation import AgreementFigures, Pulse, Statement
from storage.models import Survey

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


@dataclass(frozen=True)
class RoomYear:
    """Everything the report of one room and year shows, read in a few queries."""

    year: int
    survey: SurveyYear | None
    previous_survey: SurveyYear | None
    comments: list[str]
    pulses: list[Pulse]
    agreements: AgreementFigures
    previous_agreements: AgreementFigures


def load(ctx: Context, year: int) -> RoomYear:
    db, room = ctx.db, ctx.room_id
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
    zones = {room: ctx.tz}
    return RoomYear(
        year=year,
        survey=current,
        previous_survey=survey_year(found[1]),
        comments=(
            evaluation.comments(db, current.survey.id)
            if current is not None and current.survey.id is not None and not current.running
            else []
        ),
        pulses=evaluation.pulses(db, year, zones),
        agreements=evaluation.agreement_figures(db, year, zones, ctx.now)[room],
        previous_agreements=evaluation.agreement_figures(db, year - 1, zones, ctx.now)[room],
    )


def room_report(ctx: Context, year: int) -> list[AnyEffect]:
    """The report as one message, and its chart when there is anything to draw."""
    data = load(ctx, year)
    lang = ctx.lang
    room = room_label(ctx.db, ctx.room_id, lang)
    lines: list[Rich] = [i18n.t(lang, _K + "title", year=year, room=bold(room))]
    lines += [_BLANK, *_survey(ctx, data)]
    lines += [_BLANK, *_pulses(data, lang)]
    lines += [_BLANK, *_agreements(data, lang)]
    effects: list[AnyEffect] = [Reply(Rich.join(lines), in_reply_to=ctx.event_id)]
    drawing = _chart_data(data)
    if drawing.statements or drawing.left_out or drawing.months:
        effects.append(
            File(
                filename=f"auswertung-{year}.png",
                mimetype="image/png",
                data=chart.png(drawing, lang),
                caption=i18n.t(lang, _K + "chart_caption", year=year, room=text(room)),
            )
        )
    return effects


# --------------------------------------------------------------------------------- survey


def _survey(ctx: Context, data: RoomYear) -> list[Rich]:
    lang = ctx.lang
    lines = [i18n.t(lang, _K + "survey_title")]
    current, previous = data.survey, data.previous_survey
    if current is None:
        return [*lines, i18n.t(lang, _K + "survey_none", year=data.year)]
    survey = current.survey
    if current.running:
        until = format_datetime(survey.closes_at.astimezone(ctx.tz), lang)
        lines.append(i18n.t(lang, _K + "survey_running", until=until))
        lines.append(_participation(current, previous, lang))
        return lines
    lines.append(_participation(current, previous, lang))
    lines += _statements(current, previous, lang)
    lines += _free_texts(survey, data.comments, lang)
    return lines


def _participation_rate(year: SurveyYear | None) -> int | None:
    return rate(year.participants, year.survey.invited) if year is not None else None


def _participation(current: SurveyYear, previous: SurveyYear | None, lang: str) -> Rich:
    invited = current.survey.invited
    if not invited:
        return i18n.t(lang, _K + "participation_no_base", participants=current.participants)
    line = i18n.t(
        lang,
        _K + "participation",
        participants=current.participants,
        invited=invited,
        rate=_participation_rate(current),
    )
    before = _participation_rate(previous)
    return with_previous(line, percent_text(before, lang) if before is not None else None, lang)


def _statements(current: SurveyYear, previous: SurveyYear | None, lang: str) -> list[Rich]:
    if not current.statements:
        return [i18n.t(lang, _K + "statements_none")]
    before = {s.text: statement_mean(s) for s in previous.statements} if previous else {}
    lines: list[Rich] = []
    for number, statement in enumerate(current.statements, 1):
        lines.append(i18n.t(lang, _K + "statement", number=number, statement=text(statement.text)))
        d = statement.distribution
        if not shown(d):
            lines.append(
                i18n.t(lang, _K + "statement_too_few", answers=d.answers, min=MIN_BREAKDOWN)
            )
            continue
        one, two, three, four, five = d.counts
        distribution = i18n.t(
            lang, _K + "distribution", one=one, two=two, three=three, four=four, five=five
        )
        assert d.mean is not None
        figures = i18n.t(
            lang,
            _K + "statement_figures",
            mean=i18n.decimal(d.mean, lang),
            answers=d.answers,
            distribution=distribution,
        )
        last = before.get(statement.text)
        lines.append(
            with_previous(figures, i18n.decimal(last, lang) if last is not None else None, lang)
        )
    return lines


def _free_texts(survey: Survey, comments: list[str], lang: str) -> list[Rich]:
    if not comments:
        return []
    if len(comments) < MIN_BREAKDOWN:
        return [i18n.t(lang, _K + "free_too_few", count=len(comments), min=MIN_BREAKDOWN)]
    title = (
        i18n.t(lang, _K + "free_title", question=text(survey.free_question))
        if survey.free_question
        else i18n.t(lang, _K + "free_title_plain")
    )
    shuffled = list(comments)
    # The stored order is the order of answering: it must not show through.
    random.SystemRandom().shuffle(shuffled)
    return [title, *(i18n.t(lang, _K + "free_answer", text=text(c)) for c in shuffled)]


# --------------------------------------------------------------------------------- pulses


def _month_name(month: int, lang: str) -> str:
    return (EN_MONTHS if lang == "en" else DE_MONTHS)[month - 1]


def _pulses(data: RoomYear, lang: str) -> list[Rich]:
    lines = [i18n.t(lang, _K + "pulses_title", year=data.year, min=MIN_BREAKDOWN)]
    months = trend(data.pulses)
    if not months:
        lines.append(i18n.t(lang, _K + "pulses_none", min=MIN_BREAKDOWN))
    for m in months:
        key = "pulse_month_one" if m.pulses == 1 else "pulse_month_many"
        name = _month_name(m.month, lang)
        lines.append(
            i18n.t(lang, _K + key, month=name, mean=i18n.decimal(m.mean, lang), pulses=m.pulses)
        )
    if len(months) > 1:
        year_mean = pooled_mean(p.distribution for p in data.pulses)
        assert year_mean is not None
        counted = sum(m.pulses for m in months)
        lines.append(
            i18n.t(lang, _K + "pulses_year", mean=i18n.decimal(year_mean, lang), pulses=counted)
        )
    left_out = sum(1 for p in data.pulses if not shown(p.distribution))
    if left_out:
        lines.append(i18n.t(lang, _K + "pulses_left_out", count=left_out, min=MIN_BREAKDOWN))
    return lines


# ----------------------------------------------------------------------------- agreements


def _agreements(data: RoomYear, lang: str) -> list[Rich]:
    figures = data.agreements
    lines = [i18n.t(lang, _K + "agreements_title", year=data.year)]
    if figures.recorded == 0:
        lines.append(i18n.t(lang, _K + "agreements_none", year=data.year))
    else:
        lines.append(
            i18n.t(lang, _K + "agreements_recorded", recorded=figures.recorded, done=figures.done)
        )
        if figures.done:
            on_time = i18n.t(
                lang,
                _K + "agreements_on_time",
                on_time=figures.on_time,
                done=figures.done,
                rate=on_time_rate(figures),
            )
            before = on_time_rate(data.previous_agreements)
            lines.append(
                with_previous(
                    on_time, percent_text(before, lang) if before is not None else None, lang
                )
            )
        lines.append(i18n.t(lang, _K + "agreements_overdue", overdue=figures.overdue))
        if figures.median_days is not None:
            days = i18n.decimal(figures.median_days, lang)
            lines.append(i18n.t(lang, _K + "agreements_median", days=days))
    if figures.cancelled:
        lines.append(i18n.t(lang, _K + "agreements_cancelled", cancelled=figures.cancelled))
    return lines


# ---------------------------------------------------------------------------------- chart


def _chart_data(data: RoomYear) -> chart.ChartData:
    statements = data.survey.statements if data.survey is not None else []
    means = [(s.text, m) for s in statements if (m := statement_mean(s)) is not None]
    return chart.ChartData(
        year=data.year,
        statements=means,
        left_out=len(statements) - len(means),
        months=trend(data.pulses),
    )
