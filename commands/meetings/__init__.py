"""Meetings (Sitzungen): mark one, get its minutes; plan the next ones, whose follow-up
agenda the bot posts the working day before; `bis zur nächsten Sitzung` as a due date;
agenda requests and the draft agenda (`!top`, `!tagesordnung`) and the invitation
reminder, by the rules of procedure (commands.procedure)."""

from commands.core.registry import Router
from commands.meetings import agenda, command, invitation, planning, requests, sessions

router = Router("meetings").include(
    command.router,
    sessions.router,
    planning.router,
    agenda.router,
    requests.router,
    invitation.router,
)
