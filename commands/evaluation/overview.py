"""`!auswertung alle [zeitraum]`: all committees' figures for a period, one line per
committee room, each beside the year before where there is one.

Each figure kind is read for all rooms at once, so fifty rooms cost no more queries than
one. Direct-message rooms are no committees and are left out. As in the room's report,
the survey is the one of the year the period ends in; pulses and agreements are the
period's, in the words every report uses (figure_lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.core import i18n
from commands.core.context import Context
from commands.core.effects import AnyEffect, Reply
from commands.core.figure_lines import punctuality, recorded_line
from commands.core.rich import Rich, bold
from commands.core.room import committee_zones
from commands.core.room_names import room_name
from commands.evaluation.figures import (
    decimal_text,
    percent_text,
    rating_text,
    survey_running,
)
from commands.parsing.periods import period_label
from storage import evaluation, rooms
from storage.figures.agreements import agreement_figures
from storage.figures.period import Period, PeriodKind
from storage.figures.votes import (
    MIN_ANSWERS,
    Distribution,
    pooled,
    pulse_figures,
    pulses,
    response_rate,
)
from storage.models import Survey

_K = "evaluation_report."


@dataclass(frozen=True)
class CommitteeRow:
    """One committee's figures, as the table of all committees shows them (in words)."""

    room: str
    participation: str
    statements: str
    pulses: str
    recorded: str
    punctuality: str


def overview(ctx: Context, period: Period) -> list[AnyEffect]:
    lang = ctx.lang
    rows = committee_rows(ctx.db, ctx.defaults.zone, lang, ctx.now, period)
    if not rows:
        return [Reply(i18n.t(lang, _K + "all_none"), in_reply_to=ctx.event_id)]
    lines: list[Rich] = [
        title_line(lang, period, len(rows)),
        i18n.t(lang, _K + "all_legend", min=MIN_ANSWERS),
        Rich("", ""),  # an empty line
    ]
    lines.extend(
        i18n.t(
            lang,
            _K + "all_line",
            room=bold(row.room),
            participation=row.participation,
            statements=row.statements,
            pulses=row.pulses,
            recorded=row.recorded,
            punctuality=row.punctuality,
        )
        for row in rows
    )
    return [Reply(Rich.join(lines), in_reply_to=ctx.event_id)]


def title_line(lang: str, period: Period, count: int) -> Rich:
    title = "all_title" if period.kind is PeriodKind.YEAR else "all_title_period"
    return i18n.t(
        lang, _K + title, period=period_label(lang, period), year=period.last.year, count=count
    )


def committee_rows(
    db: Session, default_zone: ZoneInfo, lang: str, now: dt.datetime, period: Period
) -> list[CommitteeRow]:
    """Every committee's figures for the period (empty: the bot is in no committee room);
    the chat's table and the PDF show the same."""
    committees = rooms.committee_rooms(db)
    if not committees:
        return []
    zones = committee_zones(db, default_zone, committees)
    room_ids = list(zones)
    year = period.last.year
    surveys = evaluation.surveys_by_room(db, year, room_ids)
    before = evaluation.surveys_by_room(db, year - 1, room_ids)
    found = [*surveys.values(), *before.values()]
    # A running survey shows its participation only (see room_report).
    ended = [s.id for s in found if s.id is not None and not survey_running(s)]
    statements = evaluation.statements(db, ended)
    participants = evaluation.participants(db, [s.id for s in found if s.id is not None])
    pulse_means = pulse_figures(pulses(db, period, zones), room_ids)
    agreements = agreement_figures(db, period, zones, now)

    def pooled_of(survey: Survey | None) -> Distribution | None:
        if survey is None or survey.id is None or survey_running(survey):
            return None
        return pooled(s.distribution for s in statements[survey.id])

    def participation_of(survey: Survey | None) -> float | None:
        if survey is None or survey.id is None:
            return None
        return response_rate(participants[survey.id], survey.invited)

    rows: list[CommitteeRow] = []
    for room in committees:
        survey, last = surveys.get(room.room_id), before.get(room.room_id)
        participation = i18n.plain(lang, _K + "none")
        if survey is not None and survey.id is not None and survey.invited:
            participation = i18n.plain(
                lang,
                _K + "all_participation",
                rate=percent_text(participation_of(survey), lang),
                participants=participants[survey.id],
                invited=survey.invited,
            )
            if (previous := participation_of(last)) is not None:
                participation += i18n.plain(
                    lang, _K + "all_previous", value=percent_text(previous, lang)
                )
        if survey is not None and survey_running(survey):
            statements_text = i18n.plain(lang, _K + "all_running")
        else:
            statements_text = _statements_text(pooled_of(survey), pooled_of(last), lang)
        f = agreements[room.room_id]
        rows.append(
            CommitteeRow(
                room=room_name(lang, room.room_id, room.name),
                participation=participation,
                statements=statements_text,
                pulses=decimal_text(pulse_means[room.room_id].mean, lang),
                recorded=recorded_line(lang, f.recorded).plain,
                punctuality=punctuality(lang, f).plain,
            )
        )
    return rows


def _statements_text(now: Distribution | None, last: Distribution | None, lang: str) -> str:
    """ "3,9, 71 % stimmen zu, Vorjahr 3,3 / 60 %"; "–" without statements to show."""
    if now is None or not now.answers:
        return i18n.plain(lang, _K + "none")
    shown = i18n.plain(
        lang,
        _K + "all_statements",
        mean=decimal_text(now.mean, lang),
        agree=percent_text(now.agreement_rate, lang),
    )
    if last is not None and last.answers:
        shown += i18n.plain(lang, _K + "all_previous", value=rating_text(last, lang))
    return shown
