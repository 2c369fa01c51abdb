"""docs/permissions.md, written from the command declarations: `python -m commands.permissions`.

Each command's row comes from its declaration (`role=` on `@router.command`) and, where
its handler checks more than that role (owners, whoever created the object, a subcommand
of a higher role), from `cmd.<name>.who` in `commands/locales/*/permissions.yaml`, the
same text `!hilfe <befehl>` shows. `tests/unit/test_permissions.py` fails when the
committed file differs from what this writes now, and tries every restricted command as a
member without the right.
"""

from __future__ import annotations

import sys
from pathlib import Path

from commands.core import i18n
from commands.core.registry import Registry
from commands.features import build_registry

DOC = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"

_INTRO = """\
# Who may do what

Generated from the command declarations by `python -m commands.permissions`; do not edit
by hand (`tests/unit/test_permissions.py` fails when this file differs from what the
generator writes). `!hilfe <befehl>` / `!help <command>` shows the same "who may" text
in the room's language.

**Roles.** *Member*: everyone in the room. *Chair* (Vorsitz): power level 50 or more in
the room, or made chair with `!rolle`. *Coordination* (Koordination): the users named in
the config's `coordination`, in every room. A higher role may everything a lower one may.
A refused command is answered with who may, and nothing is changed.

**Acting on an object** (an agreement, a reminder, a poll) is the same whichever way it is
named: by its number, by replying to the bot's message about it, or (where a reaction
does something) by reacting to that message. Numbers count per room, so a number typed in
another room names that room's object; a reply or reaction in another room to a message
about this room's object is refused or ignored. Commands over the flood limit (config
`limits.command_burst`) are not carried out for anyone.
"""


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


def render(registry: Registry | None = None) -> str:
    """The whole of docs/permissions.md."""
    reg = registry or build_registry()
    lines = [
        _INTRO,
        "## Commands",
        "",
        "| command | English | declared role | who may | wer darf |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cmd in reg.commands:
        english = ", ".join(f"`!{a}`" for a in cmd.aliases) or "–"
        lines.append(
            f"| `!{cmd.name}` | {english} | {cmd.role.name.lower()} | "
            f"{_cell(cmd.who('en'))} | {_cell(cmd.who('de'))} |"
        )
    lines += [
        "",
        "## Reactions on the bot's messages",
        "",
        "| on a message about | reaction | who may | wer darf |",
        "| --- | --- | --- | --- |",
    ]
    for rule in reg.reactions:
        keys = " ".join(sorted(rule.keys))
        key = f"permission.reaction.{rule.ref_kind}"
        lines.append(
            f"| {rule.ref_kind} | {keys} | {_cell(i18n.raw('en', key))} | "
            f"{_cell(i18n.raw('de', key))} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write docs/permissions.md (or the path given)."""
    target = Path(argv[0]) if argv else DOC
    target.write_text(render(), "utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
