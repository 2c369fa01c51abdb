"""The one registry of all commands: every command module's router, in help order."""

from __future__ import annotations

from functools import cache

from commands import (
    agreement_changes,
    agreement_list,
    agreements,
    reminders,
    role_command,
    settings,
)
from commands import help as help_commands
from commands.registry import Registry


@cache
def registry() -> Registry:
    return Registry(
        [
            help_commands.router,
            settings.router,
            agreements.router,
            agreement_list.router,
            agreement_changes.router,
            role_command.router,
            reminders.router,
        ]
    )
