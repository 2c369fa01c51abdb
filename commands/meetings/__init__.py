"""Meetings (Sitzungen): mark one, get its minutes; plan the next ones, whose follow-up
agenda the bot posts the working day before; `bis zur nächsten Sitzung` as a due date."""

from commands.core.registry import Router
from commands.meetings import agenda, command, planning, sessions

router = Router("meetings").include(command.router, sessions.router, planning.router, agenda.router)
