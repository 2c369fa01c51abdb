"""Data files are 0600 in a 0700 directory, whatever the umask or what was there before:
the database with its -wal and -shm, the login, the voter key, the encryption store."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Config
from bot.runtime import credentials, login, voter_key
from storage.db import Database, sqlite_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """What a container or a login shell usually has: files 0644, folders 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_sqlite_database_and_its_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "gremienbot.db"
    db = Database(sqlite_url(path))
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    companions = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    assert all(p.exists() for p in companions)
    assert [mode(p) for p in (path, *companions)] == [0o600, 0o600, 0o600]
    db.dispose()


def test_a_database_left_0644_by_an_older_version_is_made_0600(tmp_path: Path) -> None:
    path = tmp_path / "gremienbot.db"
    first = Database(sqlite_url(path))
    with first.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    first.dispose()
    for p in tmp_path.iterdir():
        os.chmod(p, 0o644)
    again = Database(sqlite_url(path))
    with again.engine.begin() as conn:
        conn.execute(text("SELECT * FROM t"))
    assert {p.name: mode(p) for p in tmp_path.iterdir()} == {
        p.name: 0o600 for p in tmp_path.iterdir()
    }
    again.dispose()


def test_credentials_are_0600_even_over_a_stale_0644_temporary_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    stale = data / "credentials.json.tmp"
    stale.write_text("left by a crash")
    os.chmod(stale, 0o644)
    old_style = data / "credentials.tmp"  # the name an older version used
    old_style.write_text('{"access_token": "old"}')
    creds = credentials.Credentials("@bot:example.org", "DEV", "secret", "https://hs")
    credentials.save(data, creds)
    assert mode(data / "credentials.json") == 0o600
    assert mode(data) == 0o700
    assert not stale.exists()
    assert not old_style.exists()
    assert credentials.load(data) == creds
    # A file written 0644 by an older version is set 0600 when read.
    os.chmod(data / "credentials.json", 0o644)
    assert credentials.load(data) == creds
    assert mode(data / "credentials.json") == 0o600


def test_a_stale_temporary_symlink_is_not_followed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not the bot's")
    (data / "credentials.json.tmp").symlink_to(elsewhere)
    credentials.save(data, credentials.Credentials("@b:x.org", "D", "t", "https://hs"))
    assert elsewhere.read_text() == "not the bot's"
    assert mode(data / "credentials.json") == 0o600


def test_the_voter_key_and_an_existing_data_directory_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    key = voter_key.load_or_create(data)
    assert len(key) == 32
    assert mode(data) == 0o700
    assert mode(data / voter_key.KEY_FILE) == 0o600
    # Loosened by a copy or a restore: tightened at the next start, same key.
    os.chmod(data, 0o777)
    os.chmod(data / voter_key.KEY_FILE, 0o644)
    assert voter_key.load_or_create(data) == key
    assert (mode(data), mode(data / voter_key.KEY_FILE)) == (0o700, 0o600)
    # A short (damaged) key file with a loose mode and a stale temporary file.
    (data / voter_key.KEY_FILE).write_bytes(b"short")
    os.chmod(data / voter_key.KEY_FILE, 0o644)
    (data / f"{voter_key.KEY_FILE}.tmp").write_bytes(b"stale")
    assert voter_key.load_or_create(data) != key
    assert mode(data / voter_key.KEY_FILE) == 0o600


def test_the_encryption_store_is_0700_with_0600_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = credentials.store_path(data)
    store.mkdir(parents=True, mode=0o755)
    os.chmod(data, 0o755)
    os.chmod(store, 0o755)
    config = Config(
        homeserver="https://matrix.example.org",
        user_id="@bot:example.org",
        password="x",  # type: ignore[arg-type]
        data_dir=data,
    )
    client = login.new_client(config, None, max_retry_wait=1)
    assert (mode(data), mode(store)) == (0o700, 0o700)
    nio_file = store / "@bot:example.org_DEV.db"
    nio_file.write_bytes(b"")
    assert mode(nio_file) == 0o644
    credentials.secure_store(data)
    assert mode(nio_file) == 0o600
    assert client.store_path == str(store)
