"""The one registry of all commands: every command module's router, in help order."""

from __future__ import annotations

from functools import cache

from commands import help as help_commands
from commands import settings
from commands.registry import Registry


@cache
def registry() -> Registry:
    return Registry([help_commands.router, settings.router])
