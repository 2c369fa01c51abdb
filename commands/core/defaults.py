"""What a room uses until its chair sets something else: the one place of these defaults.

The operator may change them in the config (`defaults:`); the bot builds one `Defaults`
from it and hands it to every part that needs one (the Context, the reminder planner).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from commands.core.i18n import Language


@dataclass(frozen=True)
class Defaults:
    language: Language = "de"
    timezone: str = "Europe/Berlin"
    # German state whose public holidays are no working days (DESIGN.md: reminders).
    state: str = "NW"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
