"""The annual evaluation of each committee: the survey and the report."""

from commands.core.registry import Router
from commands.evaluation import commands

router = Router("evaluation").include(commands.router)
