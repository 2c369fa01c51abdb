"""The container image, read from the files it is built from (no Docker engine runs here).

The Dockerfile must install exactly the lock file and the package; the lock file must pin
the whole runtime dependency tree of pyproject.toml with hashes; the compose example must
run the image with its volume, read-only config, health check and database. Each check is
a function that returns the problems it finds, so the tests below can also show it finding
them in a broken copy.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy.engine import make_url

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"
LOCK_SCRIPT = ROOT / "scripts" / "lock"
COMPOSE = ROOT / "docker-compose.example.yml"
COMPOSE_CONFIG = ROOT / "deploy" / "config.compose.yaml"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))

BASE_IMAGE = "python:3.11-slim"
CONFIG_IN_IMAGE = "/config/config.yaml"
HEALTHCHECK = ["gremienbot", "healthcheck", "--config", CONFIG_IN_IMAGE]

# The image's interpreter, for evaluating environment markers (python:3.11-slim on Linux).
IMAGE_MARKER_ENV = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}


def applies_in_image(marker: Marker | None, extras: Iterable[str] = ()) -> bool:
    """Whether a requirement with this marker is needed in the image (with these extras)."""
    if marker is None:
        return True
    return any(marker.evaluate({**IMAGE_MARKER_ENV, "extra": extra}) for extra in ("", *extras))


# --------------------------------------------------------------------------- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str
    stage: int  # index of the build stage; -1 for ARGs before the first FROM


def logical_lines(text: str) -> list[str]:
    """Lines with their backslash continuations joined, blank and comment lines dropped
    (as Docker and pip do, also inside a continued line)."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current.strip():
        logical.append(current)
    return logical


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comment lines dropped."""
    logical = logical_lines(text)
    result: list[Instruction] = []
    stage = -1
    for entry in logical:
        keyword, _, args = entry.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        result.append(Instruction(keyword, args.strip(), stage))
    return result


def build_args(instructions: list[Instruction]) -> dict[str, str]:
    """Default values of the ARGs declared before the first FROM."""
    found: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ARG" and ins.stage == -1 and "=" in ins.args:
            name, _, value = ins.args.partition("=")
            found[name.strip()] = value.strip().strip("\"'")
    return found


def substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form instruction (CMD ["a", "b"]), else None."""
    if not args.startswith("["):
        return None
    value = json.loads(args)
    assert isinstance(value, list)
    return [str(v) for v in value]


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a RUN's shell script, split at && || ; and |."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {"&&", "||", ";", "|", "&"}:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def run_commands(ins: Instruction) -> list[list[str]]:
    argv = exec_form(ins.args)
    return [argv] if argv is not None else shell_commands(ins.args)


# pip's general options that take a value (`pip --python X install ...`).
_PIP_VALUE_OPTIONS = {
    "--python",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--trusted-host",
    "--cert",
    "--client-cert",
    "--cache-dir",
}


def pip_call(argv: list[str]) -> tuple[str, list[str]] | None:
    """(subcommand, its arguments) when argv runs pip, else None."""
    program = Path(argv[0]).name
    if re.fullmatch(r"pip[\d.]*", program):
        rest = argv[1:]
    elif re.fullmatch(r"python[\d.]*", program) and argv[1:3] == ["-m", "pip"]:
        rest = argv[3:]
    else:
        return None
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        i += 2 if rest[i] in _PIP_VALUE_OPTIONS else 1
    if i >= len(rest):
        return None
    return rest[i], rest[i + 1 :]


@dataclass(frozen=True)
class PipInstall:
    flags: frozenset[str]  # options without their values
    requirement_files: tuple[str, ...]
    packages: tuple[str, ...]  # positional arguments: names, paths, URLs
    stage: int
    order: int  # index of its RUN among the instructions


# pip install's options that take a value (either `--opt value` or `--opt=value`).
_INSTALL_VALUE_OPTIONS = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-e": "--editable",
    "--editable": "--editable",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "-t": "--target",
    "--target": "--target",
    "--prefix": "--prefix",
    "--root": "--root",
    "--only-binary": "--only-binary",
    "--no-binary": "--no-binary",
    "--platform": "--platform",
    "--python-version": "--python-version",
    "--implementation": "--implementation",
    "--abi": "--abi",
    "--upgrade-strategy": "--upgrade-strategy",
    "--progress-bar": "--progress-bar",
    "--config-settings": "--config-settings",
    "-C": "--config-settings",
}


def parse_pip_install(args: list[str], stage: int, order: int) -> PipInstall:
    flags: set[str] = set()
    files: list[str] = []
    packages: list[str] = []
    editable: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            canonical = _INSTALL_VALUE_OPTIONS.get(name)
            if canonical is not None and not eq:
                i += 1
                value = args[i] if i < len(args) else ""
            flags.add(canonical or name)
            if canonical == "--requirement":
                files.append(value)
            elif canonical == "--editable":
                editable.append(value)
        else:
            packages.append(arg)
        i += 1
    return PipInstall(frozenset(flags), tuple(files), tuple(packages + editable), stage, order)


# Installers besides pip, by the subcommand that installs (None: any use). The image gets
# its packages from the lock file only; system packages are not needed, as every locked
# package comes as a wheel for the image or builds without a compiler. One that needs a
# system library would have to be added here knowingly.
_OTHER_INSTALLERS: dict[str, str | None] = {
    "uv": None,
    "pipx": None,
    "poetry": None,
    "pdm": None,
    "pipenv": None,
    "conda": None,
    "mamba": None,
    "easy_install": None,
    "apt-get": "install",
    "apt": "install",
    "apk": "add",
    "dnf": "install",
    "yum": "install",
}


# The system libraries a locked package needs, added knowingly: WeasyPrint (the PDF papers)
# loads Pango and HarfBuzz's font subsetter from the system. Only these, from Debian, and
# without the packages Debian merely recommends.
SYSTEM_LIBRARIES = frozenset({"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"})


def _is_system_libraries(argv: list[str]) -> bool:
    """`apt-get install -y --no-install-recommends` of SYSTEM_LIBRARIES and nothing else."""
    if argv[1:2] != ["install"] or "--no-install-recommends" not in argv:
        return False
    named = {a for a in argv[2:] if not a.startswith("-")}
    return bool(named) and named <= SYSTEM_LIBRARIES


def install_problems(text: str) -> list[str]:
    """What the Dockerfile installs other than the lock file (hash-checked, no dependencies)
    and the package itself (`.`, no dependencies)."""
    instructions = parse_dockerfile(text)
    values = build_args(instructions)
    installs: list[PipInstall] = []
    problems: list[str] = []
    for order, ins in enumerate(instructions):
        if ins.keyword != "RUN":
            continue
        for argv in run_commands(ins):
            argv = [substitute(a, values) for a in argv]
            program = Path(argv[0]).name
            call = pip_call(argv)
            if call is not None and call[0] == "install":
                installs.append(parse_pip_install(call[1], ins.stage, order))
            elif call is not None and call[0] in {"download", "wheel"}:
                problems.append(f"pip {call[0]} in a RUN: {shlex.join(argv)}")
            elif program == "apt-get" and _is_system_libraries(argv):
                continue
            elif program in _OTHER_INSTALLERS and (
                _OTHER_INSTALLERS[program] is None or _OTHER_INSTALLERS[program] in argv[1:]
            ):
                problems.append(f"installs with {program}: {shlex.join(argv)}")
    lock = [p for p in installs if p.requirement_files]
    package = [p for p in installs if not p.requirement_files]
    if len(lock) != 1:
        problems.append(f"{len(lock)} pip installs from a requirements file, expected one")
    for p in lock:
        if p.requirement_files != ("requirements.lock",):
            problems.append(f"installs from {p.requirement_files}, not requirements.lock alone")
        problems.extend(
            f"the lock file is installed without {flag}"
            for flag in ("--require-hashes", "--no-deps")
            if flag not in p.flags
        )
        if p.packages:
            problems.append(f"the lock file's install also names {p.packages}")
    if len(package) != 1:
        problems.append(
            f"{len(package)} other pip installs, expected one: the package itself (`.`)"
        )
    for p in package:
        if p.packages != (".",):
            problems.append(f"pip install of {p.packages}, expected only `.` (the package)")
        if "--no-deps" not in p.flags:
            problems.append("the package is installed without --no-deps")
    for p in installs:
        if "--editable" in p.flags:
            problems.append("an editable install")
        extra = p.flags & {"--index-url", "--extra-index-url", "--find-links", "--constraint"}
        if extra:
            problems.append(f"pip install with {sorted(extra)}: the lock names the files")
    if lock and package and lock[0].order > package[0].order:
        problems.append("the package is installed before the lock file")
    final_stage = max((ins.stage for ins in instructions), default=0)
    if any(p.stage == final_stage for p in installs):
        problems.append("pip installs in the final stage: only the builder installs")
    return problems


def _option(argv: list[str], *names: str) -> str | None:
    """The value of the first of these options in argv (`-m 0700`, `--mode=0700`)."""
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def image_problems(text: str) -> list[str]:
    """Stages, user, volume, port, health check and entry point of the Dockerfile."""
    instructions = parse_dockerfile(text)
    values = build_args(instructions)
    problems: list[str] = []
    froms = [substitute(i.args, values).split() for i in instructions if i.keyword == "FROM"]
    if len(froms) < 2:
        problems.append(f"{len(froms)} stage(s): expected a builder and a final stage")
    problems.extend(
        f"FROM {args[0]}, expected {BASE_IMAGE}"
        for args in froms
        if args[0] != BASE_IMAGE and not args[0].startswith(BASE_IMAGE + "@sha256:")
    )
    builder = froms[0][2] if froms and len(froms[0]) == 3 and froms[0][1].upper() == "AS" else None
    final = max((i.stage for i in instructions), default=0)
    last = [i for i in instructions if i.stage == final]

    copies = [shlex.split(i.args) for i in last if i.keyword == "COPY"]
    if builder is None or [f"--from={builder}", "/opt/venv", "/opt/venv"] not in copies:
        problems.append("the final stage does not copy /opt/venv from the named builder stage")

    users = [i.args.split(":")[0] for i in last if i.keyword == "USER"]
    user = users[-1] if users else "root"
    if user in {"root", "0"}:
        problems.append("the final stage runs as root")
    commands = [
        (n, argv) for n, i in enumerate(last) if i.keyword == "RUN" for argv in run_commands(i)
    ]
    if not any(
        argv[0] == "useradd" and _option(argv, "--uid", "-u") == "1000" and argv[-1] == user
        for _, argv in commands
    ):
        problems.append(f"no `useradd --uid 1000 ... {user}` in the final stage")

    made: list[int] = []  # RUN commands that create /data
    setup: list[int] = []  # ... or change its mode or owner
    mode_ok = owner_ok = False
    for n, argv in commands:
        if "/data" not in argv:
            continue
        if argv[0] in {"mkdir", "install", "chmod", "chown"}:
            setup.append(n)
        if argv[0] == "mkdir":
            made.append(n)
            mode_ok |= _option(argv, "-m", "--mode") in {"0700", "700"}
        elif argv[0] == "install" and "-d" in argv:
            made.append(n)
            mode_ok |= _option(argv, "-m", "--mode") in {"0700", "700"}
            owner_ok |= _option(argv, "-o", "--owner") in {user, "1000"}
        elif argv[0] == "chmod":
            mode_ok |= argv[1] in {"0700", "700", "u=rwx,go="}
        elif argv[0] == "chown":
            owner_ok |= argv[-2].split(":")[0] in {user, "1000"}
    if not made:
        problems.append("the final stage does not create /data")
    if not mode_ok:
        problems.append("/data is not created with mode 0700")
    if not owner_ok:
        problems.append(f"/data is not owned by {user}")

    volumes = [i for i in last if i.keyword == "VOLUME"]
    declared = [v for i in volumes for v in (exec_form(i.args) or i.args.split())]
    if "/data" not in declared:
        problems.append("no VOLUME /data")
    elif setup and last.index(volumes[0]) < max(setup):
        problems.append("VOLUME /data comes before /data is set up (later changes are lost)")

    health = [f" {i.args}" for i in last if i.keyword == "HEALTHCHECK"]
    cmd = health[-1].split(" CMD ", 1)[-1].strip() if health else ""
    if not health or " CMD " not in health[-1] or exec_form(cmd) != HEALTHCHECK:
        problems.append(f"no HEALTHCHECK CMD {json.dumps(HEALTHCHECK)}")

    exposed = [p.split("/")[0] for i in last if i.keyword == "EXPOSE" for p in i.args.split()]
    if "9464" not in exposed:
        problems.append("port 9464 (metrics.listen) is not exposed")

    entry = [exec_form(i.args) for i in last if i.keyword == "ENTRYPOINT"]
    if entry[-1:] != [["gremienbot"]]:
        problems.append('ENTRYPOINT is not ["gremienbot"]')
    cmds = [exec_form(i.args) for i in last if i.keyword == "CMD"]
    if cmds[-1:] != [["run", "--config", CONFIG_IN_IMAGE]]:
        problems.append(f'CMD is not ["run", "--config", "{CONFIG_IN_IMAGE}"]')
    return problems


DOCKERFILE_TEXT = DOCKERFILE.read_text("utf-8")


def test_the_dockerfile_installs_exactly_the_lock_file_and_the_package() -> None:
    assert install_problems(DOCKERFILE_TEXT) == []


def test_the_dockerfile_is_multi_stage_non_root_with_volume_and_healthcheck() -> None:
    assert image_problems(DOCKERFILE_TEXT) == []


def _replace(old: str, new: str) -> Callable[[str], str]:
    """Replaces the first `old` outside comments."""

    def change(text: str) -> str:
        lines = text.split("\n")
        for n, line in enumerate(lines):
            if old in line and not line.lstrip().startswith("#"):
                lines[n] = line.replace(old, new, 1)
                return "\n".join(lines)
        raise AssertionError(f"the Dockerfile no longer has {old!r}: adapt this test")

    return change


def _append(line: str) -> Callable[[str], str]:
    return lambda text: text + line + "\n"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_append("RUN pip install requests"), "expected only `.`"),
        (_append("RUN /opt/venv/bin/python -m pip install --no-deps . httpx"), "httpx"),
        (_append("RUN uv pip install --system requests"), "installs with uv"),
        (_append("RUN apt-get update && apt-get install -y curl"), "installs with apt-get"),
        (
            _replace("apt-get install -y --no-install-recommends", "apt-get install -y"),
            "installs with apt-get",
        ),
        (
            _append("RUN apt-get install -y --no-install-recommends libpango-1.0-0 curl"),
            "installs with apt-get",
        ),
        (_replace("--require-hashes ", ""), "without --require-hashes"),
        (_replace("--no-deps -r requirements.lock", "-r requirements.lock"), "without --no-deps"),
        (_replace("install --no-deps .", "install ."), "package is installed without --no-deps"),
        (
            _replace("-r requirements.lock", "-r requirements.lock -r extra.txt"),
            "requirements.lock alone",
        ),
        (_append("RUN pip install -e ."), "editable"),
    ],
)
def test_the_install_check_finds_other_installs(
    change: Callable[[str], str], expected: str
) -> None:
    problems = install_problems(change(DOCKERFILE_TEXT))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_replace("USER gremienbot", "USER root"), "runs as root"),
        (_replace("-m 0700", "-m 0755"), "mode 0700"),
        (_replace('VOLUME ["/data"]', 'VOLUME ["/var/lib/gremienbot"]'), "no VOLUME /data"),
        (_replace('"healthcheck", ', ""), "no HEALTHCHECK"),
        (_replace("EXPOSE 9464", "EXPOSE 8080"), "9464"),
        (_replace("--uid 1000", "--uid 2000"), "useradd --uid 1000"),
        (_replace("COPY --from=builder /opt/venv", "COPY /opt/venv"), "copy /opt/venv"),
        (_append("RUN chmod 755 /data"), "VOLUME /data comes before"),
        (lambda t: t.split("\nFROM ${PYTHON_IMAGE}\n")[0], "1 stage"),
        (_replace("ARG PYTHON_IMAGE=python:3.11-slim", "ARG PYTHON_IMAGE=python:3.12"), "FROM"),
    ],
)
def test_the_image_check_finds_what_is_wrong(change: Callable[[str], str], expected: str) -> None:
    problems = image_problems(change(DOCKERFILE_TEXT))
    assert any(expected in p for p in problems), problems


def test_the_dockerfile_copies_every_package_pyproject_builds() -> None:
    """`pip install .` in the builder sees only what was copied: a package left out would
    be missing from the image without any error."""
    sources = {
        src.rstrip("/")
        for ins in parse_dockerfile(DOCKERFILE_TEXT)
        if ins.keyword == "COPY" and "--from" not in ins.args
        for src in shlex.split(ins.args)[:-1]
    }
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    needed = packages | {"pyproject.toml", "requirements.lock", PYPROJECT["project"]["readme"]}
    assert needed <= sources, f"not copied: {needed - sources}"
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file"
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    for pattern in (".git", ".venv*", "config.yaml", "data"):
        assert pattern in ignored, f".dockerignore does not leave out {pattern}"
    assert "tests" in ignored or "tests/js/node_modules" in ignored
    for src in sources:
        parts = Path(src).parts
        for pattern in ignored:
            prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
            assert not any(fnmatch(p, pattern.lstrip("/")) for p in prefixes), (
                f".dockerignore pattern {pattern!r} leaves out {src}, which the image needs"
            )


def test_the_entrypoint_is_the_projects_command() -> None:
    assert "gremienbot" in PYPROJECT["project"]["scripts"]


# ------------------------------------------------------------------------------- lock


@dataclass(frozen=True)
class Pin:
    name: str  # normalised (PEP 503)
    version: Version
    hashes: tuple[str, ...]


def parse_lock(text: str) -> tuple[list[Pin], list[str]]:
    """The lock's pins and what is wrong with its entries."""
    entries = logical_lines(text)
    pins: list[Pin] = []
    problems: list[str] = []
    for entry in entries:
        tokens = entry.split()
        options = [t for t in tokens if t.startswith("-")]
        spec = " ".join(t for t in tokens if not t.startswith("-"))
        others = [o for o in options if not o.startswith("--hash=")]
        if others or not spec:
            problems.append(f"not a pinned requirement with hashes: {entry[:80]}")
            continue
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            problems.append(f"{spec}: {exc}")
            continue
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"{spec}: not pinned with == to one version")
            continue
        hashes = tuple(o.removeprefix("--hash=") for o in options)
        bad = [h for h in hashes if not re.fullmatch(r"sha256:[0-9a-f]{64}", h)]
        if not hashes or bad:
            problems.append(f"{spec}: needs sha256 hashes (has {len(hashes)}, bad: {bad})")
            continue
        if not applies_in_image(req.marker):
            continue
        pins.append(Pin(canonicalize_name(req.name), Version(specs[0].version), hashes))
    seen: set[str] = set()
    for pin in pins:
        if pin.name in seen:
            problems.append(f"{pin.name} is pinned twice")
        seen.add(pin.name)
    return pins, problems


def project_requirements() -> list[Requirement]:
    """[project].dependencies that apply in the image (extras are not installed)."""
    reqs = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    return [r for r in reqs if applies_in_image(r.marker)]


def dependency_problems(pins: list[Pin]) -> list[str]:
    """Every runtime dependency pinned, to a version its specifier admits."""
    by_name = {p.name: p for p in pins}
    problems = []
    for req in project_requirements():
        pin = by_name.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"{req} is not pinned in requirements.lock")
        elif not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{req}: the lock pins {pin.version}")
    if canonicalize_name(PYPROJECT["project"]["name"]) in by_name:
        problems.append("the lock pins the project itself (the image installs it from `.`)")
    return problems


LOCK_TEXT = LOCK.read_text("utf-8")


def test_the_lock_pins_every_package_once_with_hashes() -> None:
    pins, problems = parse_lock(LOCK_TEXT)
    assert problems == []
    assert len(pins) >= len(project_requirements())


def test_the_lock_pins_every_runtime_dependency_of_pyproject() -> None:
    pins, _ = parse_lock(LOCK_TEXT)
    assert dependency_problems(pins) == []


def test_the_lock_says_how_it_is_regenerated() -> None:
    header = LOCK_TEXT.split("\n\n")[0].splitlines()[:3]
    assert any(line.strip("# ") == "scripts/lock" for line in header), header


def _drop_entry(name: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        out = re.sub(rf"(?ms)^{re.escape(name)}==.*?(?=^\S)", "", text, count=1)
        assert out != text, f"{name} is not in the lock: adapt this test"
        return out

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_drop_entry("prometheus-client"), "prometheus-client>=0.20 is not pinned"),
        (lambda t: re.sub(r"(?m)^pyyaml==\S+", "pyyaml==5.4.1", t), "the lock pins 5.4.1"),
        (lambda t: t + "PyYAML==6.0.4 \\\n    --hash=sha256:" + "0" * 64 + "\n", "pinned twice"),
        (lambda t: t + "Prometheus_Client==9 \\\n    --hash=sha256:" + "a" * 64 + "\n", "twice"),
        (lambda t: t + "requests>=2 \\\n    --hash=sha256:" + "0" * 64 + "\n", "not pinned"),
        (lambda t: t + "six==1.17.0\n", "needs sha256"),
        (lambda t: t + "six==1.17.0 --hash=md5:abc\n", "needs sha256"),
        (lambda t: t + "-e .\n", "not a pinned requirement"),
        (lambda t: t + "--extra-index-url https://example.org/simple\n", "not a pinned"),
        (lambda t: t + "gremienbot==0.1.0 --hash=sha256:" + "0" * 64 + "\n", "project itself"),
    ],
)
def test_the_lock_check_finds_what_is_wrong(change: Callable[[str], str], expected: str) -> None:
    pins, problems = parse_lock(change(LOCK_TEXT))
    problems += dependency_problems(pins)
    assert any(expected in p for p in problems), problems


def runtime_closure() -> tuple[set[str], set[str]]:
    """Names of the runtime dependency tree as the installed distributions' metadata in
    this environment gives it, and the names of those not installed here."""
    wanted: dict[str, set[str]] = {}
    missing: set[str] = set()
    queue = [(canonicalize_name(r.name), set(r.extras)) for r in project_requirements()]
    while queue:
        name, extras = queue.pop()
        if name in wanted and extras <= wanted[name]:
            continue
        wanted.setdefault(name, set()).update(extras)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.add(name)
            continue
        for text in dist.requires or []:
            req = Requirement(text)
            if applies_in_image(req.marker, wanted[name]):
                queue.append((canonicalize_name(req.name), set(req.extras)))
    return set(wanted), missing


def test_every_pin_is_needed_and_every_needed_package_is_pinned() -> None:
    """Compared with the dependency tree of the packages installed in this environment,
    which scripts/test installs with the lock's versions as constraints: the two trees
    are the same unless the lock and pyproject.toml went apart (run scripts/lock)."""
    pins, _ = parse_lock(LOCK_TEXT)
    pinned = {p.name: p.version for p in pins}
    needed, missing = runtime_closure()
    if set(pinned) == needed:
        return
    drift = sorted(
        f"{name} {version} (here: {_installed_version(name)})"
        for name, version in pinned.items()
        if _installed_version(name) != version
    ) + sorted(f"{name} (not installed here)" for name in missing)
    message = (
        f"pinned but not needed: {sorted(set(pinned) - needed)}; "
        f"needed but not pinned: {sorted(needed - set(pinned))}"
    )
    if drift:
        message += f"; this environment has other versions than the lock: {drift}"
    pytest.fail(message)


def _installed_version(name: str) -> Version | None:
    try:
        return Version(importlib.metadata.version(name))
    except importlib.metadata.PackageNotFoundError:
        return None


def test_the_lock_script_is_one_documented_executable_command() -> None:
    text = LOCK_SCRIPT.read_text("utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert os.access(LOCK_SCRIPT, os.X_OK)
    assert LOCK_SCRIPT.stat().st_mode & stat.S_IXOTH, "not executable for everyone"
    assert "\nset -euo pipefail\n" in text
    header = text.split("\nset -euo pipefail\n")[0]
    assert "Usage:" in header
    assert "scripts/lock --upgrade" in header
    # A pinned tool resolving for the image, whichever machine runs it.
    assert re.search(r"uv==\$UV_VERSION", text)
    assert re.search(r"(?m)^UV_VERSION=\d+\.\d+\.\d+$", text)
    for option in ("--generate-hashes", "--python-version 3.11", "--python-platform linux"):
        assert option in text
    assert "--output-file requirements.lock" in text


def test_the_deployment_guide_explains_the_lock_and_the_image() -> None:
    doc = DEPLOYMENT_DOC.read_text("utf-8")
    for text in ("scripts/lock", "scripts/lock --upgrade", "docker compose", "/data", "0700"):
        assert text in doc, text
    assert "healthcheck" in doc


# ---------------------------------------------------------------------- compose example


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def service(data: dict[str, Any], image_prefix: str) -> tuple[str, dict[str, Any]]:
    found = [
        (name, svc)
        for name, svc in data["services"].items()
        if str(svc.get("image", "")).startswith(image_prefix)
    ]
    assert len(found) == 1, f"{len(found)} services with image {image_prefix}*"
    return found[0]


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool


def mounts(svc: dict[str, Any]) -> list[Mount]:
    result = []
    for entry in svc.get("volumes", []):
        if isinstance(entry, dict):
            result.append(
                Mount(entry["source"], entry["target"], bool(entry.get("read_only", False)))
            )
        else:
            source, target, *mode = str(entry).split(":")
            result.append(Mount(source, target, "ro" in ",".join(mode).split(",")))
    return result


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment, with compose's ${VAR...} placeholders filled in."""
    env = svc.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: re.sub(r"\$\{(\w+)[^}]*\}", r"value-of-\1", str(v)) for k, v in env.items()}


def test_the_compose_file_runs_the_image_with_its_volume_and_read_only_config() -> None:
    data = compose()
    _, bot = service(data, "gremienbot")
    assert bot["image"] == "gremienbot:latest"
    assert bot.get("build") in {".", "./"} or bot["build"].get("context") in {".", "./"}
    named = set(data.get("volumes") or {})
    by_target = {m.target: m for m in mounts(bot)}
    assert by_target["/data"].source in named, "/data is not a named volume"
    config = by_target.get("/config") or by_target.get(CONFIG_IN_IMAGE)
    assert config is not None, "no config mounted at /config"
    assert config.read_only, "the config is not mounted read-only"
    assert (COMPOSE.parent / config.source).resolve() == COMPOSE_CONFIG.resolve()


def test_the_compose_file_has_health_checks_and_waits_for_its_services() -> None:
    data = compose()
    _, bot = service(data, "gremienbot")
    own = bot.get("healthcheck")
    if own is None:  # the image's: the Dockerfile's HEALTHCHECK
        assert "no HEALTHCHECK" not in " ".join(image_problems(DOCKERFILE_TEXT))
    else:
        assert not own.get("disable"), "the image's health check is switched off"
        assert "healthcheck" in own["test"]
    postgres_name, postgres = service(data, "postgres:16")
    synapse_name, synapse = service(data, "matrixdotorg/synapse")
    for name, svc in ((postgres_name, postgres), (synapse_name, synapse)):
        assert bot["depends_on"][name]["condition"] == "service_healthy", name
        assert svc["healthcheck"]["test"], f"{name} has no health check to wait for"
    named = set(data["volumes"])
    assert any(
        m.source in named and m.target == "/var/lib/postgresql/data" for m in mounts(postgres)
    )
    assert any(m.source in named and m.target == "/data" for m in mounts(synapse))
    for name, svc in data["services"].items():
        assert svc.get("restart") in {"always", "unless-stopped", "on-failure"}, name


def test_the_bot_reaches_the_postgres_service_with_the_config_as_mounted() -> None:
    data = compose()
    _, bot = service(data, "gremienbot")
    postgres_name, postgres = service(data, "postgres:16")
    env = environment(bot)
    url = make_url(env["GREMIENBOT_DATABASE_URL"])
    assert url.drivername.startswith("postgresql")
    assert url.host == postgres_name
    pg_env = environment(postgres)
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.database == pg_env["POSTGRES_DB"]
    assert url.password == pg_env["POSTGRES_PASSWORD"]
    # The config file holds no secret; the container's environment brings it.
    config = load_config(COMPOSE_CONFIG, environ=env)
    assert config.database_url == env["GREMIENBOT_DATABASE_URL"]
    assert config.password is not None or config.access_token is not None


def test_the_compose_config_fits_the_image() -> None:
    with pytest.raises(ConfigError, match="neither password nor access_token"):
        load_config(COMPOSE_CONFIG, environ={})
    config = load_config(COMPOSE_CONFIG, environ={"GREMIENBOT_PASSWORD": "secret"})
    assert config.data_dir == Path("/data")
    assert config.metrics.address == ("0.0.0.0", 9464)
    assert config.logging.format == "json"
    synapse_name, _ = service(compose(), "matrixdotorg/synapse")
    assert urlsplit(config.homeserver).hostname == synapse_name
    # The port the health check asks is the one the image exposes and compose publishes.
    exposed = {
        port.split("/")[0]
        for ins in parse_dockerfile(DOCKERFILE_TEXT)
        if ins.keyword == "EXPOSE"
        for port in ins.args.split()
    }
    assert str(config.metrics.address[1]) in exposed
    _, bot = service(compose(), "gremienbot")
    assert any(str(p).endswith(":9464") for p in bot.get("ports", [])), bot.get("ports")
