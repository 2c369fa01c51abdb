"""The secret behind the voters' hashes (commands.polls.voters), kept in the data directory.

It is deliberately not in the database: a database dump, an export or a backup of the
database alone cannot tell who gave which answer. Losing the file only means that an
answer changed after a restart is counted as a new one for polls still running.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "voter.key"


def load_or_create(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) >= 32:
        return key
    key = secrets.token_bytes(32)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key
