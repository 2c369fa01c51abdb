"""What a room uses until its chair sets something else: the one place of these defaults.

The operator may change them in the config (`defaults:`); the bot builds one `Defaults`
from it and hands it to every part that needs one (the Context, the reminder planner).
"""

from __future__ import annotations

import datetime as dt
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
    # Each feature's own settings, built from its config section (polls, evaluation,
    # overview …; commands.core.config_section), by the section's name; a feature reads
    # its own with `feature_settings()`.
    features: Mapping[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


S = TypeVar("S")


def feature_settings(defaults: Defaults, name: str, default: S) -> S:
    """The settings the config gives feature `name`, else the feature's own defaults."""
    found = defaults.features.get(name)
    return found if isinstance(found, type(default)) else default


@dataclass(frozen=True)
class Limits:
    """Quotas, flood control and quiet hours (config `limits:` and `quiet_hours:`).

    Read with `limits(defaults)`; a limit of 0 means no limit.
    """

    # Reminders set with `!erinnere` that are active or paused.
    reminders_per_member: int = 50  # per member in one room
    reminders_per_room: int = 200
    # Polls and pulses that have not ended yet.
    polls_per_member: int = 3  # per member in one room
    polls_per_room: int = 10
    # Flood control: a member may send this many commands in a row in one room, then one
    # per `command_interval`; faster commands are not carried out (one notice per flood).
    command_burst: int = 100
    command_interval: dt.timedelta = dt.timedelta(seconds=3)
    # `!erinnere` reminders falling between these times (room time) wait until the end.
    # Equal times: no quiet hours.
    quiet_start: dt.time = dt.time(22, 0)
    quiet_end: dt.time = dt.time(6, 0)


def limits(defaults: Defaults) -> Limits:
    return feature_settings(defaults, "limits", Limits())
