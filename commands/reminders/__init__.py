"""Reminders: `!erinnere` and the reminders the bot posts by itself (before, on and after
an agreement's due date; the weekly digest), with the room settings that shape them."""

from commands.core.registry import Router
from commands.reminders import commands, plan, settings

router = Router("reminders").include(commands.router, settings.router, plan.router)
