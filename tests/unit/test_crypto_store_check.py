"""Telling a damaged encryption store from a missing or a merely unreadable one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.runtime import credentials

CREDS = credentials.Credentials("@bot:example.org", "DEVICE1", "token", "https://hs")


def _store_file(data_dir: Path) -> Path:
    path = credentials.store_database(data_dir, CREDS)
    path.parent.mkdir(parents=True)
    return path


def _nio_like_store(path: Path, device_id: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, account BLOB, user_id TEXT, "
            "device_id TEXT, shared INTEGER)"
        )
        conn.execute(
            "INSERT INTO accounts (account, user_id, device_id, shared) VALUES (?, ?, ?, 1)",
            (b"pickle", CREDS.user_id, device_id),
        )


def test_a_store_holding_the_devices_keys_is_used(tmp_path: Path) -> None:
    _nio_like_store(_store_file(tmp_path), CREDS.device_id)
    assert credentials.store_damage(tmp_path, CREDS) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00garbage\x00" * 100, "file is not a database"),
        (b"", "no such table"),  # emptied: a new store would give the device a new key
    ],
    ids=["garbage", "emptied"],
)
def test_a_garbage_or_emptied_store_is_damaged(tmp_path: Path, content: bytes, reason: str) -> None:
    _store_file(tmp_path).write_bytes(content)
    damage = credentials.store_damage(tmp_path, CREDS)
    assert damage is not None
    assert reason in damage


def test_a_store_of_another_device_is_damaged_for_this_one(tmp_path: Path) -> None:
    _nio_like_store(_store_file(tmp_path), "OTHER")
    assert "holds no keys of device DEVICE1" in (credentials.store_damage(tmp_path, CREDS) or "")


def test_a_store_another_process_locks_is_unreadable_not_damaged(tmp_path: Path) -> None:
    path = _store_file(tmp_path)
    _nio_like_store(path, CREDS.device_id)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(credentials.StoreUnreadable, match="locked"):
            credentials.store_damage(tmp_path, CREDS, timeout=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_damaged_store_is_set_aside_not_deleted(tmp_path: Path) -> None:
    path = _store_file(tmp_path)
    path.write_bytes(b"garbage")
    aside = credentials.set_store_aside(tmp_path)
    assert not credentials.store_path(tmp_path).exists()
    assert (aside / path.name).read_bytes() == b"garbage"
    assert aside.name.startswith("crypto-store.damaged-")
