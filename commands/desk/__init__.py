"""The coordinator's desk: the overview across committees with possible duplicate work,
each room's rules of procedure, and the report for the leadership."""

from commands.core.registry import Router
from commands.desk import overview, report, rules, settings

# The rules join the help section on roles (rules.router names it); the rest is
# coordination's.
router = Router("coordination").include(
    rules.router, overview.router, report.router, settings.router
)
