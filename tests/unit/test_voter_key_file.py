"""The voter key apart from the data directory (`privacy.voter_key_file`): a backup of the
data volume or of the database then holds no key that would tie answers to voters."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import load_config
from bot.runtime import voter_key
from bot.runtime.app import GremienBot

KEY_BYTES = 32


def write_config(folder: Path, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {
        "homeserver": "https://matrix.example.org",
        "user_id": "@gremienbot:example.org",
        "password": "x",
        "data_dir": "data",
        "database": {"url": f"sqlite:///{folder / 'gremienbot.db'}"},
        **extra,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_by_default_the_key_is_voter_key_in_the_data_directory(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "conf"))
    assert config.voter_key_path == tmp_path / "conf" / "data" / "voter.key"


def test_the_bot_keeps_its_key_where_the_config_says_and_not_beside_the_database(
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path / "conf", privacy={"voter_key_file": "../keys/voter.key"})
    config = load_config(path)
    key_file = (tmp_path / "keys" / "voter.key").resolve()
    assert config.voter_key_path == key_file

    bot = GremienBot(config)
    bot.db.dispose()
    assert key_file.is_file()
    assert len(key_file.read_bytes()) == KEY_BYTES
    assert (mode(key_file), mode(key_file.parent)) == (0o600, 0o700)
    assert not (config.data_dir / "voter.key").exists()
    # The same key at every start.
    assert voter_key.load_or_create(config.data_dir, key_file) == key_file.read_bytes()


def test_a_key_in_the_data_directory_moves_to_the_configured_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = voter_key.load_or_create(data)
    assert (data / "voter.key").exists()
    apart = tmp_path / "keys" / "voter.key"
    assert voter_key.load_or_create(data, apart) == old
    assert apart.read_bytes() == old
    assert not (data / "voter.key").exists()
    assert mode(apart) == 0o600


def test_a_key_in_a_folder_the_bot_may_not_write_to_is_read(tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "keys"
    keys.mkdir()
    (keys / "voter.key").write_bytes(b"k" * KEY_BYTES)
    (keys / "voter.key").chmod(0o400)
    keys.chmod(0o500)
    try:
        assert voter_key.load_or_create(data, keys / "voter.key") == b"k" * KEY_BYTES
    finally:
        keys.chmod(0o700)
