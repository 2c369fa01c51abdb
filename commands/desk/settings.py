"""What the operator's config sets for the coordinator's desk: the sections `overview:`,
`rules:` and `report:` of the config file, and the settings they build, which the
commands read with `feature_settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator

from commands.core.config_section import BuildContext, ConfigSection
from commands.core.matrix_ids import check_room_id
from commands.core.registry import Router

# Rules of procedure longer than this are no rules a committee reads (about eight pages).
RULES_TEXT_LIMIT = 20_000

# Tuned on tests/data/overlap-pairs.yaml: every alike pair there scores at least 86.7,
# every unlike one at most 82.4 (token_set_ratio on the normalised texts, 0 to 100).
DEFAULT_OVERLAP_THRESHOLD = 85.0


@dataclass(frozen=True)
class OverviewSettings:
    overlap_threshold: float = DEFAULT_OVERLAP_THRESHOLD


@dataclass(frozen=True)
class RulesSettings:
    # Rules of procedure from files the config names: per room ID, and for every other room.
    # A text set in the chat with `!geschäftsordnung <text>` takes their place.
    by_room: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None


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

    @field_validator("files")
    @classmethod
    def _room_ids(cls, values: dict[str, Path]) -> dict[str, Path]:
        for room_id in values:
            check_room_id(room_id)
        return values

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
        return RulesSettings(by_room=by_room, default=default)


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
