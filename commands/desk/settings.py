"""What the operator's config sets for the coordinator's desk (`overview:`, `rules:` and
`report:` in the config file; bot.config builds these, commands read them with
`feature_settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
