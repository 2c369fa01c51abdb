"""The polls' settings from the config (`polls:`), with the defaults a committee expects."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from pydantic import Field

from commands.core.config_section import BuildContext, ConfigSection
from commands.core.defaults import Defaults, feature_settings
from commands.core.registry import Router

# Without a configured key (dialog tests, the CLI) votes are hashed with a key of this
# process; the bot always passes the one kept in its data directory.
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class PollSettings:
    # Empty: the catalogue's question in the room's language.
    pulse_question: str = ""
    pulse_duration: dt.timedelta = dt.timedelta(hours=24)
    poll_duration: dt.timedelta = dt.timedelta(hours=72)
    # `!puls anonym` asks every member by direct message: the chair's and coordination's
    # right unless opened to every member, and at most so many per member, room and 24
    # hours (0: no limit), so that nobody can flood the members' direct messages.
    anonymous_pulse_members: bool = False
    anonymous_pulses_per_day: int = 2
    # The secret behind the voters' hashes (the data directory's `voter.key`).
    voter_key: bytes = _PROCESS_KEY


def poll_settings(defaults: Defaults) -> PollSettings:
    return feature_settings(defaults, "polls", PollSettings())


class PollsConfig(ConfigSection):
    pulse_question: str = Field(
        default="", max_length=500, description="empty: 'Wie zufrieden sind Sie …' by language"
    )
    pulse_hours: float = Field(default=24, gt=0, le=24 * 60, description="a pulse's duration")
    poll_hours: float = Field(default=72, gt=0, le=24 * 365, description="a poll's duration")
    anonymous_pulse_members: bool = Field(
        default=PollSettings.anonymous_pulse_members,
        description="true: every member may start `!puls anonym`; false: chair and coordination",
    )
    anonymous_pulses_per_day: int = Field(
        default=PollSettings.anonymous_pulses_per_day,
        ge=0,
        le=1000,
        description="anonymous pulses one member may start per room in 24 hours (0: no limit)",
    )

    def build(self, context: BuildContext) -> PollSettings:
        base = PollSettings()
        return PollSettings(
            pulse_question=self.pulse_question.strip(),
            pulse_duration=dt.timedelta(hours=self.pulse_hours),
            poll_duration=dt.timedelta(hours=self.poll_hours),
            voter_key=context.voter_key or base.voter_key,
            anonymous_pulse_members=self.anonymous_pulse_members,
            anonymous_pulses_per_day=self.anonymous_pulses_per_day,
        )


router = Router()
router.config_section("polls", PollsConfig)
