"""README.md is what an operator reads first: its command list must match the bot."""

from __future__ import annotations

from pathlib import Path

from commands.features import build_registry

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


def test_readme_lists_every_command_with_its_english_name() -> None:
    missing = []
    for cmd in build_registry().commands:
        if cmd.hidden:
            continue
        if f"`!{cmd.name}" not in README:
            missing.append(cmd.name)
        if cmd.aliases and f"`!{cmd.aliases[0]}" not in README:
            missing.append(cmd.aliases[0])
    assert not missing, f"README.md does not list: {missing}"


def test_readme_gives_the_demo_and_the_test_command() -> None:
    assert "gremienbot demo" in README
    assert "scripts/test" in README
    assert "scripts/test" in (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
