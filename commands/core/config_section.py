"""A feature's section of the config file (`polls:`, `rules:` …), declared on its router
with `router.config_section("polls", PollsConfig)`.

`bot.config` adds every declared section to the file's top-level keys, so a section is
validated, and its mistakes named with key and line, like the bot's own sections. At
start each section builds the feature's settings, which the feature reads from
`Defaults.features` under the section's name (`feature_settings`).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class BuildContext:
    """What a section needs from outside itself to check and build its settings."""

    # The config file's folder: relative file names in a section count from it.
    folder: Path
    # Commands older than this are not carried out (`catchup.horizon_days`).
    catchup_horizon: dt.timedelta
    # The secret behind the voters' hashes (the data directory's voter.key); None where
    # no vote is hashed (the CLI's tools, tests).
    voter_key: bytes | None = None


class ConfigSection(BaseModel, ABC):
    """The model of one feature's section; unknown keys are mistakes."""

    model_config = ConfigDict(extra="forbid")

    def problems(self, context: BuildContext) -> list[str]:
        """What validation cannot see (a file that cannot be read), each as `key: …`;
        `check-config` and the start refuse a config with any."""
        return []

    @abstractmethod
    def build(self, context: BuildContext) -> object:
        """The feature's settings from this section."""


@dataclass(frozen=True)
class ConfigSectionRule:
    name: str  # the top-level key in the config file and in `Defaults.features`
    model: type[ConfigSection]
