"""What a room uses until its chair sets something else: the one place of these defaults.

The operator may change them in the config (`defaults:`); the bot builds one `Defaults`
from it and hands it to every part that needs one (the Context, the reminder planner).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from commands.core.i18n import Language


@dataclass(frozen=True)
class Defaults:
    language: Language = "de"
    timezone: str = "Europe/Berlin"
    # German state whose public holidays are no working days (DESIGN.md: reminders).
    state: str = "NW"
    # Each feature's own settings from the config (polls, evaluation, overview …), by the
    # feature's name; a feature reads its own with `feature_settings()`.
    features: Mapping[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


S = TypeVar("S")


def feature_settings(defaults: Defaults, name: str, default: S) -> S:
    """The settings the config gives feature `name`, else the feature's own defaults."""
    found = defaults.features.get(name)
    return found if isinstance(found, type(default)) else default
