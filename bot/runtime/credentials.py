"""The bot's login (user, device, access token), kept in the data directory.

The device ID and the encryption store belong together: reusing a device ID with a new
store would give the device a new identity key that other clients reject. So the login
is only reused while the store that was created with it still exists and still holds
that device's keys; a damaged store is set aside (never deleted) for a new device.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    user_id: str
    device_id: str
    access_token: str
    homeserver: str


def credentials_path(data_dir: Path) -> Path:
    return data_dir / "credentials.json"


def store_path(data_dir: Path) -> Path:
    return data_dir / "crypto-store"


def load(data_dir: Path) -> Credentials | None:
    path = credentials_path(data_dir)
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    if path.stat().st_mode & 0o777 != FILE_MODE:  # written by an older version
        os.chmod(path, FILE_MODE)
    return Credentials(**data)


# The data directory holds the database, the login and the keys: the bot's user only.
DIR_MODE = 0o700
FILE_MODE = 0o600


def secure_dir(folder: Path) -> None:
    """Create `folder` 0700, or make an existing one 0700 (whatever the umask or the
    volume made it)."""
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if folder.stat().st_mode & 0o777 != DIR_MODE:
        os.chmod(folder, DIR_MODE)


def secure_store(data_dir: Path) -> None:
    """The encryption store 0700 and nio's files in it 0600 (nio creates them with the
    process's umask)."""
    folder = store_path(data_dir)
    if not folder.is_dir():
        return
    secure_dir(folder)
    for item in folder.iterdir():
        if item.is_file() and not item.is_symlink() and item.stat().st_mode & 0o777 != FILE_MODE:
            os.chmod(item, FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write `path` 0600 whatever the umask, through a temporary file renamed into place.

    A temporary file left by a crash (perhaps with another mode, perhaps another owner's
    link) is removed first: it is opened only when this call created it (O_EXCL, no
    symlink followed), and set 0600 on its descriptor before anything is written.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def save(data_dir: Path, creds: Credentials) -> None:
    # 0600 from the start: the token is as good as the password.
    secure_dir(data_dir)
    path = credentials_path(data_dir)
    write_private(path, json.dumps(asdict(creds)).encode("utf-8"))
    # An older version's temporary name: a crash may have left a token in it.
    path.with_suffix(".tmp").unlink(missing_ok=True)


def forget(data_dir: Path) -> None:
    credentials_path(data_dir).unlink(missing_ok=True)


def store_matches(data_dir: Path, creds: Credentials) -> bool:
    """True when the encryption store of exactly this device is still there."""
    folder = store_path(data_dir)
    if not folder.is_dir():
        return False
    return any(p.name.startswith(f"{creds.user_id}_{creds.device_id}") for p in folder.iterdir())


class StoreUnreadable(Exception):
    """The store is there but cannot be read now (permissions, a lock, the disk): no
    damage, so it must not be replaced; the operator has to look."""


# SQLite's word for a file that is no database, or a database that is damaged.
_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def store_database(data_dir: Path, creds: Credentials) -> Path:
    """nio's SQLite file of this device (nio.store.DefaultStore names it so)."""
    return store_path(data_dir) / f"{creds.user_id}_{creds.device_id}.db"


def store_damage(data_dir: Path, creds: Credentials, *, timeout: float = 5.0) -> str | None:
    """Why the store of this device cannot be used, or None when it holds the device's
    keys. Raises StoreUnreadable when it cannot be read for a reason that is no damage."""
    path = store_database(data_dir, creds)
    if not path.is_file():
        return f"its database file {path.name} is missing"
    try:
        # Not read-only: after a crash SQLite may have to roll back a journal first.
        with contextlib.closing(sqlite3.connect(path, timeout=timeout)) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                return f"{path.name} fails SQLite's integrity check ({check})"
            row = conn.execute(
                "SELECT count(*) FROM accounts WHERE user_id = ? AND device_id = ?",
                (creds.user_id, creds.device_id),
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(_DAMAGED) or "no such table" in str(exc):
            return f"{path.name}: {exc}"
        raise StoreUnreadable(f"{path}: {exc}") from exc
    except OSError as exc:
        raise StoreUnreadable(f"{path}: {exc}") from exc
    if row is None or row[0] == 0:
        return f"{path.name} holds no keys of device {creds.device_id}"
    return None


def set_store_aside(data_dir: Path, *, now: dt.datetime | None = None) -> Path:
    """Move the store out of the way (kept for inspection); returns where it went."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = store_path(data_dir)
    target = folder.with_name(f"{folder.name}.damaged-{stamp}")
    folder.rename(target)
    return target
