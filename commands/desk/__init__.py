"""The coordinator's desk: the overview across committees with possible duplicate work,
each room's rules of procedure, the report for the leadership, and the dashboard beside a
room (`!dashboard einrichten`)."""

from commands.core.registry import Router
from commands.desk import dashboard_setup, overview, report, rules, settings

# The rules join the help section on roles (rules.router names it); the rest is
# coordination's.
router = Router("coordination").include(
    rules.router, overview.router, report.router, dashboard_setup.router, settings.router
)
