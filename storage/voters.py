"""Who answered, as nobody can read it back: a keyed hash stands in for the voter.

The hash of (poll, user) under the bot's secret key is the same each time the user
answers that poll, so a changed answer replaces the earlier one; without the key (which is
a file in the data directory, not in the database) nobody can tell from the database,
an export or a backup who gave which answer. Each poll gets its own hash for the same
user, so answers cannot be linked across polls either.

Here, below the polls, the survey and `gremienbot forget` alike: erasure must find a
person's answers under the very hash they were stored with.
"""

from __future__ import annotations

from storage.db import keyed


def voter_hash(key: bytes, scope: str, user_id: str) -> str:
    """64 hex digits for `user_id` in `scope` (e.g. "poll:12" or "survey:3")."""
    return keyed(key, scope, user_id)
