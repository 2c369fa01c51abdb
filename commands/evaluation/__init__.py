"""The annual evaluation of each committee: the survey and the report."""

from commands.core.registry import Router
from commands.evaluation import commands, config

router = Router("evaluation").include(commands.router, config.router)
