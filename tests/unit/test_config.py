"""An operator's configuration file: what check-config says about it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from commands.core.defaults import Defaults

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, "utf-8")
    return path


def test_example_configuration_is_valid() -> None:
    config = load_config(REPO / "config.example.yaml", environ={})
    assert config.user_id == "@gremienbot:example.org"
    assert config.defaults.language == "de"
    assert config.defaults.build() == Defaults()
    assert config.database_url.startswith("sqlite:///")
    assert config.may_invite("@someone:example.org")
    assert not config.may_invite("@someone:elsewhere.org")


def test_every_wrong_key_is_named_with_its_line_and_what_is_expected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "homeserver: matrix.example.org\n"
        "user_id: gremienbot\n"
        "password: x\n"
        "defaults:\n"
        "  language: fr\n"
        "  timezone: Europe/Atlantis\n"
        "coordinaton: []\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    problems = "\n".join(err.value.problems)
    assert f"{path}:1: homeserver: must start with https://" in problems
    assert f"{path}:2: user_id:" in problems
    assert "no Matrix user ID" in problems
    assert f"{path}:5: defaults.language:" in problems
    assert "'de'" in problems
    assert f"{path}:6: defaults.timezone: unknown time zone" in problems
    assert f"{path}:7: coordinaton: is not a known key" in problems


def test_missing_secret_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "homeserver: https://m.example.org\nuser_id: '@b:example.org'\n")
    with pytest.raises(ConfigError, match="GREMIENBOT_PASSWORD"):
        load_config(path, environ={})


def test_secrets_from_the_environment_win_and_are_never_shown(tmp_path: Path) -> None:
    path = _write(tmp_path, "homeserver: https://m.example.org\nuser_id: '@b:example.org'\n")
    config = load_config(path, environ={"GREMIENBOT_PASSWORD": "s3cret-pw"})
    assert config.password is not None
    assert config.password.get_secret_value() == "s3cret-pw"
    assert "s3cret-pw" not in repr(config)
    assert "s3cret-pw" not in str(config.model_dump())


def test_data_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: p\n"
        "data_dir: ./bot-data\n",
    )
    config = load_config(path, environ={})
    assert config.data_dir == tmp_path / "bot-data"
    assert config.database_url == f"sqlite:///{tmp_path / 'bot-data' / 'gremienbot.db'}"


def test_check_config_command_exits_non_zero_and_lists_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "homeserver: https://m.example.org\nuser_id: nobody\npassword: p\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert f"{path}:2: user_id:" in proc.stderr


def test_migrate_command_brings_a_new_database_to_the_newest_schema(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: p\n",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "database schema: empty ->" in proc.stdout
    assert (tmp_path / "data" / "gremienbot.db").exists()


def test_the_configured_defaults_become_the_bots_one_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "homeserver: https://matrix.example.org\n"
        "user_id: '@gremienbot:example.org'\n"
        "password: x\n"
        "defaults:\n"
        "  language: en\n"
        "  state: BY\n",
    )
    defaults = load_config(path, environ={}).defaults.build()
    assert defaults == Defaults(language="en", timezone=Defaults().timezone, state="BY")
