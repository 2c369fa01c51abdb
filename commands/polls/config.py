"""The polls' settings from the config (`polls:`), with the defaults a committee expects."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from commands.core.defaults import Defaults, feature_settings

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
