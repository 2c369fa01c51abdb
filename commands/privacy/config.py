"""The retention periods from the config (`retention:`), with the documented defaults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pydantic import Field

from commands.core.config_section import BuildContext, ConfigSection
from commands.core.defaults import Defaults, feature_settings
from commands.core.registry import Router
from storage.retention import RetentionPolicy


@dataclass(frozen=True)
class RetentionSettings:
    policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    # The daily job runs at the first wake-up after this hour (defaults.timezone).
    hour: int = 3


def retention_settings(defaults: Defaults) -> RetentionSettings:
    return feature_settings(defaults, "retention", RetentionSettings())


class RetentionConfig(ConfigSection):
    """How long records are kept (days; null: for good); docs/datenschutz.md."""

    closed_agreements_days: int | None = Field(
        default=3 * 365, ge=1, description="done or cancelled agreements, after closing"
    )
    poll_votes_days: int | None = Field(
        default=365, ge=1, description="votes of ended polls and surveys, then anonymised"
    )
    minutes_days: int | None = Field(
        default=3 * 365, ge=1, description="meetings' minutes and attendance, after the end"
    )
    processed_events_days: int | None = Field(
        default=90, ge=30, description="records of handled Matrix events (above the catch-up)"
    )
    sent_outbox_days: int | None = Field(
        default=90, ge=1, description="messages the bot sent (its outbox)"
    )
    hour: int = Field(default=3, ge=0, le=23, description="the daily job's hour")

    def build(self, context: BuildContext) -> RetentionSettings:
        def days(value: int | None) -> dt.timedelta | None:
            return None if value is None else dt.timedelta(days=value)

        events = days(self.processed_events_days)
        if events is not None:
            # A command the bot may still catch up on must still be known as handled.
            events = max(events, context.catchup_horizon + dt.timedelta(days=1))
        policy = RetentionPolicy(
            closed_agreements=days(self.closed_agreements_days),
            poll_votes=days(self.poll_votes_days),
            minutes=days(self.minutes_days),
            processed_events=events,
            sent_outbox=days(self.sent_outbox_days),
        )
        return RetentionSettings(policy=policy, hour=self.hour)


router = Router()
router.config_section("retention", RetentionConfig)
