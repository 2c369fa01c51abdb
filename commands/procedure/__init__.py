"""The rules of procedure at work: decisions by circulation (circulation.py) and in
meetings (decisions.py), the roll call and quorum (attendance.py), agenda requests and the
draft agenda (agenda.py), the invitation period (invitations.py), approved minutes
(minutes_approval.py); the rules as numbers: engine.py, rules.py."""

from commands.core.registry import Router
from commands.procedure import (
    agenda,
    attendance,
    circulation,
    decisions,
    invitations,
    minutes_approval,
)

router = Router("procedure").include(
    circulation.router,
    decisions.router,
    attendance.router,
    agenda.router,
    invitations.router,
    minutes_approval.router,
)
