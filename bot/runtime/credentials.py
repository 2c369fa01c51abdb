"""The bot's login (user, device, access token), kept in the data directory.

The device ID and the encryption store belong together: reusing a device ID with a new
store would give the device a new identity key that other clients reject. So the login
is only reused while the store that was created with it still exists.
"""

from __future__ import annotations

import json
import os
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
    return Credentials(**data)


def save(data_dir: Path, creds: Credentials) -> None:
    path = credentials_path(data_dir)
    tmp = path.with_suffix(".tmp")
    # Written 0600 from the start: the token is as good as the password.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(creds), fh)
    os.replace(tmp, path)


def forget(data_dir: Path) -> None:
    credentials_path(data_dir).unlink(missing_ok=True)


def store_matches(data_dir: Path, creds: Credentials) -> bool:
    """True when the encryption store of exactly this device is still there."""
    folder = store_path(data_dir)
    if not folder.is_dir():
        return False
    return any(p.name.startswith(f"{creds.user_id}_{creds.device_id}") for p in folder.iterdir())
