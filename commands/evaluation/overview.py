"""`!auswertung alle`: all committees' figures for a year, one line per committee room.

Each figure kind is read for all rooms at once, so fifty rooms cost no more queries than
one. Direct-message rooms are no committees and are left out.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.core import i18n
from commands.core.context import Context
from commands.core.effects import AnyEffect, Reply
from commands.core.rich import Rich, bold
from commands.core.room import TIMEZONE_KEY
from commands.core.room_names import room_name
from commands.evaluation.figures import (
    mean_text,
    on_time_rate,
    percent_text,
    pooled_mean,
    rate,
    survey_running,
)
from commands.polls.common import MIN_BREAKDOWN
from storage import evaluation, rooms
from storage.evaluation import Distribution

_K = "evaluation_report."


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def overview(ctx: Context, year: int) -> list[AnyEffect]:
    lang = ctx.lang
    committees = rooms.committee_rooms(ctx.db)
    if not committees:
        return [Reply(i18n.t(lang, _K + "all_none"), in_reply_to=ctx.event_id)]
    settings = rooms.all_room_settings(ctx.db)
    default = ctx.defaults.zone
    zones = {
        r.room_id: _zone(settings.get(r.room_id, {}).get(TIMEZONE_KEY), default) for r in committees
    }
    room_ids = list(zones)
    surveys = evaluation.surveys_by_room(ctx.db, year, room_ids)
    survey_ids = [s.id for s in surveys.values() if s.id is not None]
    # A running survey shows its participation only (see room_report).
    ended = [s.id for s in surveys.values() if s.id is not None and not survey_running(s)]
    statements = evaluation.statements(ctx.db, ended)
    participants = evaluation.participants(ctx.db, survey_ids)
    pulses: dict[str, list[Distribution]] = {}
    for pulse in evaluation.pulses(ctx.db, year, zones):
        pulses.setdefault(pulse.room_id, []).append(pulse.distribution)
    agreements = evaluation.agreement_figures(ctx.db, year, zones, ctx.now)

    lines: list[Rich] = [
        i18n.t(lang, _K + "all_title", year=year, count=len(committees)),
        i18n.t(lang, _K + "all_legend", min=MIN_BREAKDOWN),
        Rich("", ""),  # an empty line
    ]
    for room in committees:
        survey = surveys.get(room.room_id)
        participation = i18n.plain(lang, _K + "none")
        statements_mean: float | None = None
        statements_text: str | None = None
        if survey is not None and survey.id is not None:
            if survey_running(survey):
                statements_text = i18n.plain(lang, _K + "all_running")
            else:
                statements_mean = pooled_mean(s.distribution for s in statements[survey.id])
            if survey.invited:
                participation = i18n.plain(
                    lang,
                    _K + "all_participation",
                    rate=rate(participants[survey.id], survey.invited),
                    participants=participants[survey.id],
                    invited=survey.invited,
                )
        figures = agreements[room.room_id]
        lines.append(
            i18n.t(
                lang,
                _K + "all_line",
                room=bold(room_name(lang, room.room_id, room.name)),
                participation=participation,
                statements=statements_text or mean_text(statements_mean, lang),
                pulses=mean_text(pooled_mean(pulses.get(room.room_id, [])), lang),
                recorded=figures.recorded,
                on_time=percent_text(on_time_rate(figures), lang),
                overdue=figures.overdue,
            )
        )
    return [Reply(Rich.join(lines), in_reply_to=ctx.event_id)]
