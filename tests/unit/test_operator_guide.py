"""The operator's guide (docs/de/betrieb.md, docs/en/operations-guide.md) stays true.

An IT admin copies its command lines into a shell, so every `gremienbot …` line in a
fenced block must be accepted by the real command-line parser (bot/cli.py), with real
example values instead of placeholders; every config key it names as a dot path in
backticks must be one config.example.yaml documents; its config excerpts must load; and
its downgrade line must take a real database's schema back.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.config import ConfigError, load_config
from storage.db import Database
from storage.migrate import current_revision, upgrade

ROOT = Path(__file__).resolve().parents[2]
GUIDES = {
    "de": ROOT / "docs" / "de" / "betrieb.md",
    "en": ROOT / "docs" / "en" / "operations-guide.md",
}
EXAMPLE = ROOT / "config.example.yaml"

# Subcommands an operator needs; the demo is for trying the bot, not for running it.
NOT_FOR_OPERATORS = {"demo"}

FENCE = re.compile(r"^```(\w*)\s*$")
# Shell operators that end one command and start the next.
SEPARATORS = {"&&", "||", "|", ";", "&"}
REDIRECTIONS = {">", ">>", "<", "<<", ">&", "<&", ">|"}
# A file descriptor glued to a redirection (2>/dev/null): not an argument.
FD_BEFORE_REDIRECTION = re.compile(r"(?<=\s)\d+(?=[<>])")
PLACEHOLDERS = (
    re.compile(r"<[^\s<>]+>"),  # <raum>, <room>
    re.compile(r"…|\.\.\."),  # an elision
    re.compile(r"\[-"),  # [--room ROOM]: an optional part, as in a usage line
)
CAPITALS = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")  # FILE, ROOM, DAY
# Dot paths in backticks that are files or hosts, not config keys (`voter.key`, `stadt.de`).
FILE_SUFFIXES = {
    "b64", "com", "csv", "db", "de", "dump", "env", "gz", "ics", "json", "key", "lock",
    "md", "net", "org", "pdf", "py", "service", "sql", "tar", "toml", "txt", "xlsx",
    "yaml", "yml", "zip",
}  # fmt: skip
CONFIG_SPAN = re.compile(
    r"^(?P<path>[a-z][a-z0-9_]*(?:\.(?:[a-z][a-z0-9_]*|\*))*)(?P<colon>:(?: .*)?)?$"
)
# A key config.example.yaml shows commented out, as an example to switch on
# (`# room: "!leitung:example.org"`): documented there as much as a set one.
COMMENTED_KEY = re.compile(r"^(?P<indent>\s*)# (?P<key>[a-z][a-z0-9_]*:(?: .*)?)$")


# ---------------------------------------------------------------------- reading the guides


def fenced_blocks(text: str) -> Iterator[tuple[str, int, list[str]]]:
    """(language, line number of the first line, lines) of each fenced code block."""
    lang, start, lines = "", 0, list[str]()
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line.strip())
        if match and not inside:
            inside, lang, start, lines = True, match.group(1), number + 1, []
        elif line.strip() == "```" and inside:
            inside = False
            yield lang, start, lines
        elif inside:
            lines.append(line)


def prose(text: str) -> str:
    """The text without its fenced code blocks."""
    out, inside = [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
        elif not inside:
            out.append(line)
    return "\n".join(out)


def logical_lines(lines: list[str], start: int) -> Iterator[tuple[int, str]]:
    """Shell lines with their backslash continuations joined, with the first's number."""
    pending, first = "", start
    for offset, line in enumerate(lines):
        if not pending:
            first = start + offset
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        yield first, pending + line.strip()
        pending = ""
    if pending:
        yield first, pending


def shell_commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line, redirections and comments removed."""
    lexer = shlex.shlex(FD_BEFORE_REDIRECTION.sub("", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    skip_next = False
    for token in lexer:
        if skip_next:
            skip_next = False
        elif token in SEPARATORS:
            commands.append([])
        elif token in REDIRECTIONS:
            skip_next = True
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _is_gremienbot(token: str) -> bool:
    return token == "gremienbot" or token.endswith("/gremienbot")


def _image_name(token: str) -> str:
    return token.rsplit("/", 1)[-1].split(":", 1)[0]


def gremienbot_arguments(tokens: list[str]) -> list[str] | None:
    """The arguments `gremienbot` gets from this command, or None when it runs something
    else: `gremienbot …`, `/opt/…/gremienbot …`, `sudo -u gremienbot …/gremienbot …`,
    `ExecStart=…/gremienbot …`, `docker compose run [opts] gremienbot …` (the image's
    entrypoint is gremienbot) and `docker compose exec [opts] gremienbot gremienbot …`."""
    i = 0
    while i < len(tokens) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[i]):
        key, value = tokens[i].split("=", 1)
        if key.startswith("Exec") and _is_gremienbot(value):  # a systemd unit's ExecStart=
            return tokens[i + 1 :]
        i += 1
    if i < len(tokens) and tokens[i] == "sudo":
        i += 1
        while i < len(tokens) and tokens[i].startswith("-"):
            i += 2 if tokens[i] in ("-u", "-g", "--user", "--group") else 1
    if i >= len(tokens):
        return None
    if _is_gremienbot(tokens[i]):
        return tokens[i + 1 :]
    if tokens[i] not in ("docker", "podman"):
        return None
    rest = tokens[i + 1 :]
    if rest and rest[0] == "compose":
        rest = rest[1:]
    verbs = [t for t in rest if not t.startswith("-")]
    if not verbs or verbs[0] not in ("run", "exec") or "--entrypoint" in rest:
        return None
    after_verb = rest[rest.index(verbs[0]) + 1 :]
    service = next((n for n, t in enumerate(after_verb) if _image_name(t) == "gremienbot"), None)
    if service is None:
        return None
    args = after_verb[service + 1 :]
    if verbs[0] == "exec":
        if not args or not _is_gremienbot(args[0]):
            return None
        args = args[1:]
    return args


def command_lines(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number, the line, gremienbot's arguments) for each `gremienbot` command in a
    fenced block (of a systemd unit, its Exec lines)."""
    found = []
    for lang, start, lines in fenced_blocks(text):
        for number, line in logical_lines(lines, start):
            if lang == "ini" and not line.startswith("Exec"):
                continue
            try:
                commands = shell_commands(line)
            except ValueError:  # an open quote: no shell would run it either
                bad = ["gremienbot", "(the shell cannot split this line)"]
                commands = [bad] if "gremienbot" in line else []
            for tokens in commands:
                args = gremienbot_arguments(tokens)
                if args is not None:
                    found.append((number, line, args))
    return found


def parse(args: list[str]) -> tuple[argparse.Namespace | None, str]:
    """The parsed arguments, or None and what argparse said."""
    stderr, stdout = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            return build_parser().parse_args(args), ""
    except SystemExit:
        said = (stderr.getvalue() or stdout.getvalue()).strip().splitlines()
        return None, said[-1] if said else "argparse exited"


def command_problems(text: str) -> list[str]:
    """What is wrong with the guide's command lines, one line each."""
    problems = []
    for number, line, args in command_lines(text):
        where = f"line {number}: {line}"
        placeholders = [p.pattern for p in PLACEHOLDERS if p.search(line)]
        placeholders += [a for a in args if CAPITALS.match(a)]
        if placeholders:
            problems.append(f"{where}\n    placeholder instead of a real value: {placeholders}")
            continue
        namespace, said = parse(args)
        if namespace is None:
            problems.append(f"{where}\n    the gremienbot command line refuses it: {said}")
    return problems


def signature(args: list[str]) -> str:
    """Subcommand, its action word (crypto's) and the options a line uses."""
    namespace, _ = parse(args)
    assert namespace is not None
    words = [args[0]]
    if isinstance(getattr(namespace, "action", None), str):
        words.append(namespace.action)
    options = sorted({a.split("=", 1)[0] for a in args if a.startswith("-") and a != "-"})
    return " ".join(words + options)


def operator_commands() -> set[str]:
    """Each subcommand of the parser an operator uses, with each action of those that take
    one (`crypto status`, `crypto export-recovery-key`, …)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    wanted = set()
    for name, subparser in sub.choices.items():
        if name in NOT_FOR_OPERATORS:
            continue
        actions = [a for a in subparser._actions if not a.option_strings and a.choices is not None]
        if actions:
            wanted |= {f"{name} {choice}" for a in actions for choice in a.choices}
        else:
            wanted.add(name)
    return wanted


# ------------------------------------------------------------------------- config keys


def documented_config() -> dict[str, Any]:
    """config.example.yaml with the keys it shows commented out switched on."""
    lines = []
    for line in EXAMPLE.read_text("utf-8").splitlines():
        match = COMMENTED_KEY.match(line)
        lines.append(
            f"{match['indent']}{match['key']}" if match and _one_key(match["key"]) else line
        )
    data = yaml.safe_load("\n".join(lines))
    assert isinstance(data, dict)
    return data


def _one_key(text: str) -> bool:
    """Whether a commented line is a key with its value, not a sentence with a colon."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(value, dict) and len(value) == 1


def config_key_problems(text: str, documented: dict[str, Any]) -> list[str]:
    problems = []
    for span in sorted(set(re.findall(r"`([^`\n]+)`", prose(text)))):
        match = CONFIG_SPAN.match(span)
        if match is None:
            continue
        path = match["path"].split(".")
        if match["colon"] is None and (len(path) < 2 or path[-1] in FILE_SUFFIXES):
            continue  # a word or a file name, not a key
        node: Any = documented
        for depth, key in enumerate(path):
            if key == "*":
                if not isinstance(node, dict) or not node:
                    problems.append(f"`{span}`: {'.'.join(path[:depth])} has no keys")
                break
            if not isinstance(node, dict) or key not in node:
                problems.append(
                    f"`{span}`: config.example.yaml has no {'.'.join(path[: depth + 1])}"
                )
                break
            node = node[key]
    return problems


def config_excerpts(text: str) -> list[tuple[int, str]]:
    """The guide's YAML blocks that are excerpts of config.yaml (first line `# config.yaml`)."""
    return [
        (start, "\n".join(lines))
        for lang, start, lines in fenced_blocks(text)
        if lang == "yaml" and lines and lines[0].strip() == "# config.yaml"
    ]


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------- tests


@pytest.fixture(params=sorted(GUIDES), ids=lambda lang: f"guide-{lang}")
def guide(request: pytest.FixtureRequest) -> str:
    return GUIDES[request.param].read_text("utf-8")


def test_every_gremienbot_line_an_admin_copies_from_the_guide_is_accepted(guide: str) -> None:
    assert len(command_lines(guide)) >= 20, "the guide's command lines were not found"
    problems = command_problems(guide)
    assert not problems, "\n".join(problems)


def test_the_guide_shows_every_command_an_operator_needs(guide: str) -> None:
    shown = set()
    for _number, _line, args in command_lines(guide):
        namespace, _ = parse(args)
        if namespace is not None:
            action = getattr(namespace, "action", None)
            shown.add(f"{args[0]} {action}" if isinstance(action, str) else args[0])
    missing = operator_commands() - shown
    assert not missing, f"no example in a code block for: {sorted(missing)}"


def test_the_german_and_the_english_guide_show_the_same_commands() -> None:
    de, en = (
        {
            signature(args)
            for _n, _l, args in command_lines(GUIDES[lang].read_text("utf-8"))
            if parse(args)[0] is not None  # the lines refused are the test above's
        }
        for lang in ("de", "en")
    )
    assert de == en, f"only in German: {sorted(de - en)}; only in English: {sorted(en - de)}"


def test_every_config_key_the_guide_names_is_documented_in_config_example(guide: str) -> None:
    documented = documented_config()
    named = [
        s
        for s in re.findall(r"`([^`\n]+)`", prose(guide))
        if (m := CONFIG_SPAN.match(s)) and (m["colon"] or "." in m["path"])
    ]
    assert len(named) >= 20, "the guide's config keys were not found"
    problems = config_key_problems(guide, documented)
    assert not problems, "\n".join(problems)


def test_every_config_excerpt_in_the_guide_loads_as_a_real_config(
    guide: str, tmp_path: Path
) -> None:
    excerpts = config_excerpts(guide)
    assert excerpts, "the guide shows no config excerpt"
    example = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    for start, excerpt in excerpts:
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(merged(example, yaml.safe_load(excerpt))), "utf-8")
        try:
            load_config(path, environ={})
        except ConfigError as exc:
            pytest.fail(f"the excerpt at line {start} does not load: {exc}")


def test_the_downgrade_line_takes_the_schema_back_to_the_older_version(
    guide: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippets = [
        shlex.split(line)
        for _lang, start, lines in fenced_blocks(guide)
        for _n, line in logical_lines(lines, start)
        if "import downgrade" in line
    ]
    assert len(snippets) == 1, "the guide should show one downgrade line"
    code = snippets[0][snippets[0].index("-c") + 1]
    revision = re.search(r'"(\d{4})"\)$', code)
    assert revision is not None, code
    (tmp_path / "config.yaml").write_text(EXAMPLE.read_text("utf-8"), "utf-8")
    config = load_config(tmp_path / "config.yaml", environ={})
    config.data_dir.mkdir(mode=0o700)
    db = Database(config.database_url)
    upgrade(db.engine)
    monkeypatch.chdir(tmp_path)
    exec(code, {})  # the guide's own line, as an admin would run it
    assert current_revision(db.engine) == revision[1]
    db.dispose()


def test_the_check_catches_a_wrong_subcommand_flag_placeholder_and_config_key() -> None:
    """The checks above can fail: a guide with these mistakes is refused, line by line."""
    broken = "\n".join(
        [
            "Set `report.channel` and `retention.*`, `privacy.voter_key_file` and `oops:`.",
            "```sh",
            "gremienbot restore --config config.yaml backup.json",
            "gremienbot export --config config.yaml --format json --out b.json --verbose",
            "gremienbot forget --config config.yaml <person>",
            "gremienbot export --config config.yaml --format json --out FILE",
            "docker compose exec gremienbot gremienbot crypto rotate --config /c.yaml",
            "gremienbot check-config --config config.yaml > /dev/null 2>&1",
            'gremienbot forget --config config.yaml --name "Anna @anna:stadt.de',
            "```",
        ]
    )
    problems = command_problems(broken)
    assert len(problems) == 6, "\n".join(problems)
    assert "invalid choice: 'restore'" in problems[0]
    assert "unrecognized arguments: --verbose" in problems[1]
    assert "placeholder" in problems[2]
    assert "placeholder" in problems[3]
    assert "invalid choice: 'rotate'" in problems[4]
    assert "invalid choice: '(the shell cannot split this line)'" in problems[5]
    keys = config_key_problems(broken, documented_config())
    assert keys == [
        "`oops:`: config.example.yaml has no oops",
        "`report.channel`: config.example.yaml has no report.channel",
    ]
