"""Polls: pulses and general polls as native Matrix polls, answers, closing and results."""

from commands.core.registry import Router
from commands.polls import closing, config, start, votes

router = Router("polls").include(start.router, votes.router, closing.router, config.router)
