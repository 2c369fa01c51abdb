"""What the meeting commands share: who may run a meeting, command hints, names."""

from __future__ import annotations

import datetime as dt

from commands.core.context import Context, Role, command_hint
from commands.core.errors import PermissionDenied
from commands.core.rich import Rich
from commands.parsing.dates import format_datetime

TITLE_LIMIT = 200


def require_chair(ctx: Context) -> None:
    """Starting, ending and planning meetings is the chair's and the coordination's job."""
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("permission.needs_chair")


def command(ctx: Context, de: str, en: str) -> Rich:
    """A command hint in the room's language, e.g. `!sitzung ende` / `!meeting end`."""
    return command_hint(ctx, f"sitzung {de}", f"meeting {en}")


def moment_text(ctx: Context, moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(ctx.tz), ctx.lang)
