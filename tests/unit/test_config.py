"""An operator's configuration file: what check-config says about it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import FEATURE_SECTIONS, Config, ConfigError, load_config
from commands.core.defaults import Defaults
from commands.core.registry import Registry, Router
from commands.desk.settings import OverviewSettings, ReportSettings, RulesSettings
from commands.polls.config import PollsConfig, poll_settings

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


def test_the_desk_sections_reach_the_features_and_rules_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "schule.md").write_text("# GO\n§ 1 Schule\n", "utf-8")
    (tmp_path / "muster.md").write_text("§ 1 Muster", "utf-8")
    path = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"
        "overview:\n  overlap_threshold: 90\n"
        "rules:\n  files: {'!schule:example.org': rules/schule.md}\n"
        "  default_file: muster.md\n"
        "report:\n  room: '!leitung:example.org'\n  day: 3\n  hour: 7\n",
    )
    features = load_config(path, environ={}).build_defaults().features
    assert features["overview"] == OverviewSettings(overlap_threshold=90)
    assert features["rules"] == RulesSettings(
        by_room={"!schule:example.org": "# GO\n§ 1 Schule"}, default="§ 1 Muster"
    )
    assert features["report"] == ReportSettings(room="!leitung:example.org", day=3, hour=7)


def test_desk_config_mistakes_are_named(tmp_path: Path) -> None:
    (tmp_path / "lang.md").write_text("x" * 20_001, "utf-8")
    path = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"
        "rules:\n  files: {'!schule:example.org': fehlt.md}\n  default_file: lang.md\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    problems = "\n".join(err.value.problems)
    assert "rules.files.!schule:example.org: cannot read" in problems
    assert "rules.default_file:" in problems
    assert "has 20001 characters, at most 20000" in problems
    bad = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"
        "overview:\n  overlap_threshold: 30\nreport:\n  room: leitung\n  day: 32\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(bad, environ={})
    problems = "\n".join(err.value.problems)
    assert f"{bad}:5: overview.overlap_threshold:" in problems
    assert f"{bad}:7: report.room: 'leitung' is no Matrix room ID" in problems
    assert f"{bad}:8: report.day:" in problems


def test_the_anonymous_pulse_keys_reach_the_polls_and_mistakes_are_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"
        "polls:\n  anonymous_pulse_members: true\n  anonymous_pulses_per_day: 0\n",
    )
    polls = poll_settings(load_config(path, environ={}).build_defaults())
    assert polls.anonymous_pulse_members is True
    assert polls.anonymous_pulses_per_day == 0
    default = poll_settings(load_config(REPO / "config.example.yaml", environ={}).build_defaults())
    assert default.anonymous_pulse_members is False
    assert default.anonymous_pulses_per_day == 2
    bad = _write(
        tmp_path,
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"
        "polls:\n  anonymous_pulse_members: vielleicht\n  anonymous_pulses_per_day: -1\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(bad, environ={})
    problems = "\n".join(err.value.problems)
    assert f"{bad}:5: polls.anonymous_pulse_members:" in problems
    assert f"{bad}:6: polls.anonymous_pulses_per_day:" in problems


def test_each_feature_section_is_a_key_of_the_file_and_explained_in_the_example() -> None:
    example = (REPO / "config.example.yaml").read_text("utf-8")
    assert [rule.name for rule in FEATURE_SECTIONS] == [
        "help",
        "offices",
        "polls",
        "evaluation",
        "overview",
        "rules",
        "report",
        "retention",
    ]
    for rule in FEATURE_SECTIONS:
        assert rule.name in Config.model_fields
        assert f"\n{rule.name}:\n" in example, rule.name
        block = example.split(f"\n{rule.name}:\n", 1)[1].split("\n\n", 1)[0]
        for key in rule.model.model_fields:
            assert f" {key}:" in block, f"{rule.name}.{key}"


def test_a_config_section_declared_twice_stops_the_bot() -> None:
    first, second = Router(), Router()
    first.config_section("polls", PollsConfig)
    second.config_section("polls", PollsConfig)
    with pytest.raises(ValueError, match="config section 'polls' declared twice"):
        Registry([first, second])
