"""The secret behind the voters' hashes (storage.voters), kept outside the database:
voter.key in the data directory, or the file `privacy.voter_key_file` names (best on
another volume than the database, backed up apart from it: docs/deployment.md).

It is deliberately not in the database: a database dump, an export or a backup of the
database alone cannot tell who gave which answer. Losing the file only means that an
answer changed after a restart is counted as a new one for polls still running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from bot.runtime import credentials

log = logging.getLogger(__name__)

KEY_FILE = "voter.key"
KEY_BYTES = 32


def load_or_create(data_dir: Path, path: Path | None = None) -> bytes:
    """The key (made on first use) from `path` (default: voter.key in `data_dir`), in a
    data directory made 0700 and a file made 0600, whatever they were before: the bot
    calls this at every start. A folder of its own for the key is made 0700 when it is
    created; an existing one is left as the operator set it up."""
    credentials.secure_dir(data_dir)
    old = data_dir / KEY_FILE
    path = path or old
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=credentials.DIR_MODE)
    key = read(path)
    if key is None and path != old and (moved := read(old)) is not None:
        # Configured apart only now: the key moves there (answers stay linked to their
        # voters, and the database's keyed hashes stay valid), and leaves the data directory.
        credentials.write_private(path, moved)
        old.unlink()
        log.info("moved the voter key from %s to %s", old, path)
        return moved
    if key is not None:
        if path.stat().st_mode & 0o777 != credentials.FILE_MODE:
            # A key mounted read-only (a secret of the container platform) stays as it is.
            with contextlib.suppress(OSError):
                os.chmod(path, credentials.FILE_MODE)
        return key
    key = secrets.token_bytes(KEY_BYTES)
    credentials.write_private(path, key)
    return key


def read(path: Path) -> bytes | None:
    """The key in `path`, never made here; None when it is not there (or too short)."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    return key if len(key) >= KEY_BYTES else None
