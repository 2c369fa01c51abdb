"""Closing the loop: what a committee changes after its evaluation.

`!auswertung maßnahme Sitzungen auf 90 Minuten begrenzen @anna bis 31.3.` (chair or
coordination) records an ordinary agreement — numbered in the room, owned, due and
reminded as any `!verabredung` — marked as a measure taken on the room's latest ended
evaluation. `!auswertung maßnahmen [zeitraum]` lists the measures of a year's evaluation
with their state, for everyone in the room: members who answered see what came of it.
The next year's report lists them beside the figures they answered (room_report).
"""

from __future__ import annotations

from dataclasses import replace

from commands.agreements.common import date_text, number, one_line, short_due_text, user_text
from commands.agreements.record import confirmation, record_agreement
from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError, PermissionDenied
from commands.core.rich import Rich
from commands.parsing.periods import PeriodError, parse_past_period, refusal
from storage import evaluation
from storage.figures.agreements import State, state_of
from storage.models import Agreement

_K = "evaluation_report."


def record(ctx: Context, args: str) -> Reply:
    """A measure on the room's latest ended evaluation; refused while none has ended."""
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("permission.needs_chair")
    survey = evaluation.latest_ended(ctx.db, ctx.room_id)
    if survey is None:
        raise CommandError(_K + "measure_no_survey")
    agreement, owners = record_agreement(ctx, args, empty_key=_K + "measure_empty")
    evaluation.mark_measure(ctx.db, agreement, survey.year)
    recorded = confirmation(ctx, agreement, owners)
    year = agreement.measure_year or survey.year
    note = i18n.t(ctx.lang, _K + "measure_recorded", year=year)
    return replace(recorded, rich=Rich.join([recorded.rich, note]))


def listing_or_record(ctx: Context, args: str) -> Reply:
    """`maßnahmen [zeitraum]` lists; `maßnahmen <text>` (the plural written where one
    measure is meant) records it, when the text names no period."""
    value = args.strip()
    if not value:
        return listing(ctx, None)
    try:
        period = parse_past_period(value, ctx.now.astimezone(ctx.tz).date())
    except PeriodError as exc:
        if exc.key != "period.unreadable":
            raise refusal(exc, value) from None
        return record(ctx, value)
    return listing(ctx, period.last.year)


def listing(ctx: Context, year: int | None) -> Reply:
    """The measures of that year's evaluation (None: the latest ended one's)."""
    if year is None:
        latest = evaluation.latest_ended(ctx.db, ctx.room_id)
        year = latest.year if latest is not None else ctx.now.astimezone(ctx.tz).year
    found = evaluation.measures(ctx.db, ctx.room_id, [year])
    lines = [i18n.t(ctx.lang, _K + "measures_title", year=year)]
    if not found:
        cmd = measure_command(ctx)
        lines.append(i18n.t(ctx.lang, _K + "measures_none", year=year, cmd=cmd))
    lines += [measure_line(ctx, a) for a in found]
    return Reply(Rich.join(lines), in_reply_to=ctx.event_id)


def measure_line(ctx: Context, a: Agreement) -> Rich:
    """ "• #12 Sitzungen auf 90 Minuten begrenzen – überfällig, Frist Di., 31.3." — no
    owners: the report that lists them names no member."""
    state = state_of(a, ctx.now.astimezone(ctx.tz))
    values: dict[str, object] = {
        "number": number(a),
        "text": user_text(one_line(a.text)),
        "due": (
            short_due_text(ctx, a.due_date, a.due_time)
            if a.due_date is not None
            else i18n.plain(ctx.lang, "agreement.due_none")
        ),
    }
    if state is State.DONE and a.closed_at is not None:
        values["date"] = date_text(ctx, a.closed_at)
    return i18n.t(ctx.lang, _K + "measure." + state.value, **values)


def measure_command(ctx: Context) -> Rich:
    """How a measure is recorded, as the room's language writes the command."""
    return command_hint(ctx, "auswertung maßnahme", "evaluation measure")
