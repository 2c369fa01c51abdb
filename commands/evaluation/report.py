"""The evaluation report: `!auswertung` (this year), `!auswertung 2025`, `!auswertung alle`
(also `alle 2025`).

Not a command of its own: `!auswertung` is declared once with the survey, which hands
everything but `starten` to `report`. The room's report is for its chair and the
coordination; the table of all committees for the coordination only.
"""

from __future__ import annotations

import re

from commands.core.context import Context, Role
from commands.core.effects import AnyEffect
from commands.core.errors import CommandError, PermissionDenied
from commands.evaluation.overview import overview
from commands.evaluation.room_report import room_report

ALL_WORDS = frozenset({"alle", "all"})
# The bot did not exist before; a typo like 206 must not read as a year.
FIRST_YEAR = 2000
_YEAR = re.compile(r"[0-9]{4}")


def report(ctx: Context, args: str) -> list[AnyEffect]:
    """The report of this room for a year (empty: this year), or with `alle`/`all` (and
    optionally a year) the table of all committees; a CommandError for anything else or
    the wrong role."""
    value = args.strip()
    head, _, rest = value.partition(" ")
    if head.casefold() in ALL_WORDS:
        if ctx.role < Role.COORDINATION:
            raise PermissionDenied("permission.needs_coordination")
        return overview(ctx, _year(ctx, rest.strip()))
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("permission.needs_chair")
    return room_report(ctx, _year(ctx, value))


def _year(ctx: Context, value: str) -> int:
    current = ctx.now.astimezone(ctx.tz).year
    if not value:
        return current
    if not _YEAR.fullmatch(value):
        raise CommandError("evaluation_report.bad_args", value=value, example=current - 1)
    year = int(value)
    if not FIRST_YEAR <= year <= current:
        raise CommandError(
            "evaluation_report.year_out_of_range", year=year, first=FIRST_YEAR, last=current
        )
    return year
