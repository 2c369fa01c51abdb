"""What the operator's config sets for the coordinator's desk: the sections `overview:`,
`rules:` and `report:` of the config file, and the settings they build, which the
commands read with `feature_settings`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from commands.core.config_section import BuildContext, ConfigSection
from commands.core.matrix_ids import check_room_id
from commands.core.registry import Router
from commands.procedure.describe import unreadable_text
from commands.procedure.engine import Rules
from commands.procedure.settings import RulesSettings
from commands.procedure.words import UnreadableRules, parse_rules

__all__ = ["RULES_TEXT_LIMIT", "OverviewSettings", "ReportSettings", "RulesSettings"]

# Rules of procedure longer than this are no rules a committee reads (about eight pages).
RULES_TEXT_LIMIT = 20_000

# Tuned on tests/data/overlap-pairs.yaml: every alike pair there scores at least 86.7,
# every unlike one at most 82.4 (token_set_ratio on the normalised texts, 0 to 100).
DEFAULT_OVERLAP_THRESHOLD = 85.0


@dataclass(frozen=True)
class OverviewSettings:
    overlap_threshold: float = DEFAULT_OVERLAP_THRESHOLD


@dataclass(frozen=True)
class ReportSettings:
    # Where the monthly report goes; None: no monthly report (`!bericht` still works).
    room: str | None = None
    # Day of the month (a later day than the month has: its last day) and hour, in the
    # configured time zone.
    day: int = 1
    hour: int = 8


class OverviewConfig(ConfigSection):
    overlap_threshold: float = Field(
        default=DEFAULT_OVERLAP_THRESHOLD,
        ge=50,
        le=100,
        description="how alike (0-100) two open agreements of different committees must be "
        "to be shown as possible duplicate work",
    )

    def build(self, context: BuildContext) -> OverviewSettings:
        return OverviewSettings(overlap_threshold=self.overlap_threshold)


class RulesConfig(ConfigSection):
    files: dict[str, Path] = Field(
        default_factory=dict, description="room ID -> Markdown file with its rules of procedure"
    )
    default_file: Path | None = Field(
        default=None, description="Markdown file with the rules of every other room"
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        description="room ID -> the rules' numbers in the words of `!rules set`, e.g. "
        "'quorum more than half | invitation 14 days | circulation 7 days, at least half, "
        "simple majority | minutes objection 14 days | agenda cutoff 10 days'; only the "
        "parts named differ from default_params",
    )
    default_params: str | None = Field(
        default=None,
        description="the rules' numbers of every room, in the same words; what they leave "
        "out is as the bot's defaults (quorum more than half, invitation 7 days, "
        "circulation 14 days with more than half and a simple majority, 14 days for "
        "objections to minutes and for agenda requests)",
    )

    @field_validator("files")
    @classmethod
    def _room_ids(cls, values: dict[str, Path]) -> dict[str, Path]:
        for room_id in values:
            check_room_id(room_id)
        return values

    @field_validator("params")
    @classmethod
    def _params(cls, values: dict[str, str]) -> dict[str, str]:
        for room_id, words in values.items():
            check_room_id(room_id)
            _changes(words, room_id)
        return values

    @field_validator("default_params")
    @classmethod
    def _default_params(cls, value: str | None) -> str | None:
        if value is not None:
            _changes(value)
        return value

    def _named(self, context: BuildContext) -> dict[str, Path]:
        """Each file by its key; relative paths count from the config file's folder."""
        named = {f"rules.files.{room}": context.folder / path for room, path in self.files.items()}
        if self.default_file is not None:
            named["rules.default_file"] = context.folder / self.default_file
        return named

    def problems(self, context: BuildContext) -> list[str]:
        """Files that cannot be read or are too long, by their key."""
        found: list[str] = []
        for key, path in self._named(context).items():
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                found.append(f"{key}: cannot read {path}: {exc}")
                continue
            if not text.strip():
                found.append(f"{key}: {path} is empty")
            elif len(text) > RULES_TEXT_LIMIT:
                found.append(
                    f"{key}: {path} has {len(text)} characters, at most {RULES_TEXT_LIMIT}"
                )
        return found

    def build(self, context: BuildContext) -> RulesSettings:
        folder = context.folder
        by_room = {
            room: (folder / path).read_text("utf-8").strip() for room, path in self.files.items()
        }
        default_file = self.default_file
        default = (folder / default_file).read_text("utf-8").strip() if default_file else None
        # A room's parameters change the default ones part by part, as the chair's do.
        default_rules = dataclasses.replace(Rules(), **_changes(self.default_params or ""))
        rules_by_room = {
            room: dataclasses.replace(default_rules, **_changes(words))
            for room, words in self.params.items()
        }
        return RulesSettings(
            by_room=by_room,
            default=default,
            rules_by_room=rules_by_room,
            default_rules=default_rules,
        )


def _changes(words: str, room_id: str | None = None) -> dict[str, Any]:
    """The Rules fields the words set; a ValueError naming each unreadable part."""
    try:
        return parse_rules(words)
    except UnreadableRules as exc:
        where = f" for {room_id}" if room_id else ""
        raise ValueError(
            f"cannot read the rules{where}: {unreadable_text('en', exc.problems)}"
        ) from None


class ReportConfig(ConfigSection):
    room: str | None = Field(
        default=None,
        description="room ID for the monthly report to the leadership; empty: no monthly post",
    )
    day: int = Field(
        default=1, ge=1, le=31, description="day of the month (31: the month's last day)"
    )
    hour: int = Field(default=8, ge=0, le=23, description="hour, in defaults.timezone")

    @field_validator("room")
    @classmethod
    def _room_id(cls, value: str | None) -> str | None:
        return None if not value else check_room_id(value)

    def build(self, context: BuildContext) -> ReportSettings:
        return ReportSettings(room=self.room, day=self.day, hour=self.hour)


router = Router()
router.config_section("overview", OverviewConfig)
router.config_section("rules", RulesConfig)
router.config_section("report", ReportConfig)
