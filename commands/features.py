"""The bot's features: the one list of routers, in the order `!hilfe` shows them.

A new feature adds its package's router here; its commands, reaction rules and room
settings come with it. The order is the order of the help sections and of the settings
in `!einstellungen`.

It is also bot/'s one door to the features: what the operator's command line needs of
them outside the chat (`gremienbot export`, `gremienbot report`) is imported here, and
bot/ imports it from here.
"""

from __future__ import annotations

from commands import (
    agreements,
    desk,
    evaluation,
    exports,
    general,
    meetings,
    papers,
    polls,
    privacy,
    procedure,
    reminders,
)
from commands.agreements.offices import configured_offices
from commands.core.defaults import Defaults
from commands.core.registry import Registry
from commands.desk.dashboard_data import (
    FileOrder,
    Refused,
    Viewer,
    export_order,
    language,
    overview,
)
from commands.exports.operator import (
    EXPORT_FORMATS,
    EXPORT_SECTIONS,
    ExportRefused,
    operator_export,
)
from commands.general import roles
from commands.papers.document import Paper, render_pdf
from commands.papers.evaluation import evaluation_paper
from commands.papers.minutes import minutes_paper
from commands.papers.report import report_paper

# The bot's registry, and the command line's door to the exports (bot/transfer.py) and
# the PDF papers (bot/papers.py); the dashboard's to its figures and files (bot/dashboard).
__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_SECTIONS",
    "ExportRefused",
    "FileOrder",
    "Paper",
    "Refused",
    "Viewer",
    "build_registry",
    "evaluation_paper",
    "export_order",
    "file_job_config",
    "language",
    "minutes_paper",
    "operator_export",
    "overview",
    "render_pdf",
    "report_paper",
]


def file_job_config(defaults: Defaults) -> dict[str, object]:
    """What a file made later (core.file_jobs) may read of the config: the offices."""
    return {"offices": dict(configured_offices(defaults))}


def build_registry() -> Registry:
    """Every command, reaction rule and room setting. The bot builds it once at start-up."""
    return Registry(
        [
            general.router,  # !hilfe, !einstellungen: language and time zone
            agreements.router,
            reminders.router,
            meetings.router,
            procedure.router,  # !umlauf, !beschluss, !top, !anwesend: the rules at work
            polls.router,
            evaluation.router,
            roles.router,  # !rolle: a help section of its own
            desk.router,  # !geschäftsordnung beside !rolle; overview and report: coordination
            exports.router,  # !export: coordination
            papers.router,  # no commands: the PDFs (`!liste pdf` …) made after the command
            privacy.router,  # no commands: the daily retention job
        ]
    )
