"""The one registry of all commands: every command module's router, in help order."""

from __future__ import annotations

from functools import cache

from commands.agreements import changes as agreement_changes
from commands.agreements import listing as agreement_list
from commands.agreements import record as agreements
from commands.core.registry import Registry
from commands.general import help as help_commands
from commands.general import roles as role_command
from commands.general import settings
from commands.reminders import commands as reminders


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
