"""The secret behind the voters' hashes (commands.polls.voters), kept in the data directory.

It is deliberately not in the database: a database dump, an export or a backup of the
database alone cannot tell who gave which answer. Losing the file only means that an
answer changed after a restart is counted as a new one for polls still running.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.runtime import credentials

KEY_FILE = "voter.key"


def load_or_create(data_dir: Path) -> bytes:
    """The key (made on first use), in a data directory made 0700 and a file made 0600,
    whatever they were before: the bot calls this at every start."""
    credentials.secure_dir(data_dir)
    path = data_dir / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) >= 32:
        if path.stat().st_mode & 0o777 != credentials.FILE_MODE:
            os.chmod(path, credentials.FILE_MODE)
        return key
    key = secrets.token_bytes(32)
    credentials.write_private(path, key)
    return key
