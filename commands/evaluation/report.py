"""The evaluation report: `!auswertung [zeitraum]` (default this year), `!auswertung alle
[zeitraum]`.

The period is the one period language (commands.parsing.periods): a year as before, and a
quarter, a month or a range of days too. Pulses and agreements are counted in the period;
the survey shown is the one of the year the period ends in.

Not a command of its own: `!auswertung` is declared once with the survey, which hands
everything but `starten`, `beenden` and the measures to `report`. The room's report is for
its chair and the coordination; the table of all committees for the coordination only.
"""

from __future__ import annotations

from commands.core.context import Context, Role
from commands.core.effects import AnyEffect
from commands.core.errors import PermissionDenied
from commands.evaluation.overview import overview
from commands.evaluation.room_report import room_report
from commands.parsing.date_words import fold
from commands.parsing.periods import past_period
from storage.figures.period import Period, year

ALL_WORDS = frozenset({"alle", "all"})


def report(ctx: Context, args: str) -> list[AnyEffect]:
    """The report of this room for a period (empty: this year), or with `alle`/`all` (and
    optionally a period) the table of all committees; a CommandError for a period that
    cannot be read or the wrong role."""
    value = args.strip()
    head, _, rest = value.partition(" ")
    if fold(head) in ALL_WORDS:
        if ctx.role < Role.COORDINATION:
            raise PermissionDenied("permission.needs_coordination")
        return overview(ctx, period_of(ctx, rest))
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("permission.needs_chair")
    return room_report(ctx, period_of(ctx, value))


def period_of(ctx: Context, value: str) -> Period:
    """The period named (one that has begun), this year when none is."""
    today = ctx.now.astimezone(ctx.tz).date()
    if not value.strip():
        return year(today.year)
    return past_period(value, today)
