"""`!sitzung` / `!meeting`: one command, its first word says what to do (German or English)."""

from __future__ import annotations

from collections.abc import Callable

from commands.core.context import Context
from commands.core.effects import LaterFile, Reply
from commands.core.errors import UsageError
from commands.core.registry import Router, fold
from commands.core.rich import Rich
from commands.meetings import planning, sessions

router = Router()

_Action = Callable[[Context, str], Reply | Rich | LaterFile]
_ACTIONS: dict[str, _Action] = {
    **dict.fromkeys(("start", "beginn", "beginnen", "begin"), sessions.start),
    **dict.fromkeys(("ende", "end", "beenden", "schluss", "stop"), sessions.end),
    **dict.fromkeys(("protokoll", "minutes"), sessions.minutes),
    **dict.fromkeys(("liste", "list"), sessions.listing),
    **dict.fromkeys(("plan", "planen", "schedule"), planning.plan),
}


@router.command("sitzung", aliases=("meeting",))
def meeting(ctx: Context, args: str) -> Reply | Rich | LaterFile:
    parts = args.split(None, 1)
    if not parts:
        return planning.show(ctx)
    action = _ACTIONS.get(fold(parts[0]))
    if action is None:
        raise UsageError("meeting.unknown_action", value=parts[0])
    return action(ctx, parts[1] if len(parts) > 1 else "")
