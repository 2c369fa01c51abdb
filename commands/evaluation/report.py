"""The committee's evaluation report (being written on its own branch)."""

from __future__ import annotations

from commands.core.context import Context
from commands.core.effects import AnyEffect
from commands.core.errors import CommandError


def report(ctx: Context, args: str) -> list[AnyEffect]:
    raise CommandError("evaluation.report_pending")
