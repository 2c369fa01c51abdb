"""A room setting (`!einstellungen <name> <wert>`), declared by its feature's router."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from commands.core.context import Context


@dataclass(frozen=True)
class Setting:
    key: str  # storage key
    names: tuple[str, ...]  # German first, then English
    label_key: str
    # Turns what the user typed into the value to store; raises CommandError on bad input.
    parse: Callable[[Context, str], str]
    # Shows a stored value (None: the default) in the room's language.
    show: Callable[[Context, str | None], str]
