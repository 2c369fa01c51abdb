"""The retention periods from the config (`retention:`), with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.core.defaults import Defaults, feature_settings
from storage.retention import RetentionPolicy


@dataclass(frozen=True)
class RetentionSettings:
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    # The daily job runs at the first wake-up after this hour (defaults.timezone).
    hour: int = 3


def retention_settings(defaults: Defaults) -> RetentionSettings:
    return feature_settings(defaults, "retention", RetentionSettings())
