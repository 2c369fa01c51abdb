"""What the config's `rules:` section sets (commands.desk.settings builds it): the rules'
text from files, and their numbers per committee (`rules.params`, `rules.default_params`,
in the words of `!geschäftsordnung setze`). Here, not in the desk, because the procedure's
features read the numbers and must not depend on the desk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from commands.procedure.engine import Rules


@dataclass(frozen=True)
class RulesSettings:
    # Rules of procedure from files the config names: per room ID, and for every other room.
    # A text set in the chat with `!geschäftsordnung <text>` takes their place.
    by_room: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    # The rules' numbers per room ID, and for every other room; what the chair sets with
    # `!geschäftsordnung setze …` changes them part by part.
    rules_by_room: Mapping[str, Rules] = field(default_factory=dict)
    default_rules: Rules = field(default_factory=Rules)
