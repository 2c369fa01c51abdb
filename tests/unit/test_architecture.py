"""The architecture's rules, read from the imports of the tree (docs/architecture.md).

- Layers: `bot/` → `commands/` → `storage/`. `storage/` imports neither; `commands/`
  never imports `bot/` or nio. Inside `commands/`, `core/` is the bottom (it imports no
  other part of `commands/`), `parsing/` sits on it, and features sit on both.
- `bot/` reaches a feature only through `commands/features.py`, the one list of routers;
  it may use `commands.core`, `commands.parsing` and `storage` directly.
- No import cycle between modules, and none between feature packages.
- No import of a project module inside a function or class: every dependency is visible
  at the top of its module. A third-party import may stay lazy (a heavy library only an
  export or a chart needs) when a comment beside it says why.

Each rule fails with the offending import as `file:line: module -> imported`.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "commands", "storage")
# commands/ subpackages that are no feature: the layer features stand on.
COMMANDS_BASE = ("commands.core", "commands.parsing")
# commands/ modules that know every feature: the list of routers and what is built from it.
COMMANDS_TOP = ("commands.features", "commands.permissions")
BOT_MAY_USE = ("commands.core", "commands.parsing", "commands.features", "storage", "bot")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or package, for `from package import name`)
    path: Path
    line: int
    late: bool  # inside a function or class body
    type_only: bool  # under `if TYPE_CHECKING:`, never executed
    commented: bool  # a comment on its line or the line above says why

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.source} -> {self.target}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    # `from commands import agreements` imports the module commands.agreements.
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    source = path.read_text("utf-8")
    lines = source.splitlines()

    def commented(line: int) -> bool:
        own = lines[line - 1]
        above = lines[line - 2].strip() if line >= 2 else ""
        return "#" in own or above.startswith("#")

    def walk(nodes: list[ast.stmt], late: bool, type_only: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in dict.fromkeys(_targets(module, path, node)):
                    yield Import(
                        module, target, path, node.lineno, late, type_only, commented(node.lineno)
                    )
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield from walk(node.body, True, type_only)
            elif isinstance(node, ast.If):
                yield from walk(node.body, late, type_only or _is_type_checking(node.test))
                yield from walk(node.orelse, late, type_only)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        stmts = [c for c in children if isinstance(c, ast.stmt)]
                        stmts += [s for c in children if hasattr(c, "body") for s in c.body]
                        yield from walk(stmts, late, type_only)

    yield from walk(ast.parse(source).body, False, False)


def _tools_of(module: str, path: Path) -> Iterator[Import]:
    """The operator's tools a module loads by name when their subcommand runs (bot/cli.py's
    `TOOLS`): counted as imports of that module, so that every rule sees them."""
    for node in ast.parse(path.read_text("utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "TOOLS" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            for value in node.value.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield Import(module, value.value, path, value.lineno, False, False, True)


IMPORTS = [
    imp
    for module, path in MODULES.items()
    for imp in (*_imports_of(module, path), *_tools_of(module, path))
]


def _project(target: str) -> bool:
    return target.split(".")[0] in PACKAGES


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _feature(module: str) -> str | None:
    """`commands.polls.start` -> `commands.polls`; None for core, parsing and the top."""
    if not _under(module, "commands") or _under(module, *COMMANDS_BASE, *COMMANDS_TOP):
        return None
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _layer_violation(imp: Import) -> str | None:
    src, tgt = imp.source, imp.target
    if _under(src, "storage"):
        if _under(tgt, "bot", "commands") or _under(tgt, "nio"):
            return "storage/ imports neither bot/, commands/ nor nio"
    elif _under(src, "commands"):
        if _under(tgt, "bot") or _under(tgt, "nio"):
            return "commands/ never imports bot/ or nio"
        if (
            _under(src, "commands.core")
            and _under(tgt, "commands")
            and not _under(tgt, "commands.core")
        ):
            return "commands/core is the bottom of commands/: it imports no other part"
        if (
            _under(src, "commands.parsing")
            and _under(tgt, "commands")
            and not _under(tgt, *COMMANDS_BASE)
        ):
            return "commands/parsing imports only commands/core"
        if _feature(src) and _under(tgt, *COMMANDS_TOP):
            return "a feature never imports the list of features"
    elif _under(src, "bot") and _project(tgt) and not _under(tgt, *BOT_MAY_USE):
        return "bot/ reaches features only through commands/features.py"
    return None


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _runtime_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in IMPORTS:
        if _project(imp.target) and not imp.type_only and imp.target in MODULES:
            graph[imp.source].add(imp.target)
    return graph


def test_the_rules_see_the_whole_tree() -> None:
    # The rules below would pass on an empty list: make sure they read real imports.
    assert len(MODULES) > 100
    assert any(i.source == "bot.runtime.app" and _under(i.target, "storage") for i in IMPORTS)
    assert any(_feature(i.source) and _under(i.target, "commands.core") for i in IMPORTS)


def test_layers_run_one_way_bot_commands_storage() -> None:
    wrong = [f"{imp}  ({why})" for imp in IMPORTS if (why := _layer_violation(imp))]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_bot_imports_no_feature_package() -> None:
    wrong = [
        str(imp)
        for imp in IMPORTS
        if _under(imp.source, "bot") and _feature(imp.target) and not imp.type_only
    ]
    assert not wrong, "bot/ imports a feature (go through commands/features.py):\n" + "\n".join(
        wrong
    )


def test_no_import_cycle_between_modules() -> None:
    cycle = _cycle(_runtime_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_between_features() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in IMPORTS:
        src, tgt = _feature(imp.source), _feature(imp.target)
        if src and tgt and src != tgt and not imp.type_only:
            graph[src].add(tgt)
    cycle = _cycle(graph)
    assert cycle is None, "features depend on each other in a circle: " + " -> ".join(cycle or [])


def test_project_modules_are_imported_at_the_top_of_a_module() -> None:
    late = [str(imp) for imp in IMPORTS if imp.late and _project(imp.target)]
    assert not late, "imports of project modules inside a function or class:\n" + "\n".join(late)


def test_a_lazy_third_party_import_says_why() -> None:
    silent: list[str] = []
    by_place: dict[tuple[Path, int], Import] = {}
    for imp in IMPORTS:
        if imp.late and not _project(imp.target):
            by_place[(imp.path, imp.line)] = imp
    for (path, line), imp in sorted(by_place.items()):
        # A block of lazy imports needs its reason once, above its first line.
        block_start = line
        while (path, block_start - 1) in by_place:
            block_start -= 1
        if not by_place[(path, block_start)].commented and not imp.commented:
            silent.append(str(imp))
    assert not silent, "lazy third-party imports without a comment saying why:\n" + "\n".join(
        silent
    )


def test_the_rules_catch_what_they_forbid() -> None:
    # Each rule, shown a forbidden import, names it.
    def imp(source: str, target: str) -> Import:
        return Import(source, target, ROOT / "bot" / "x.py", 1, False, False, False)

    assert _layer_violation(imp("storage.rooms", "commands.core.i18n"))
    assert _layer_violation(imp("commands.polls.start", "bot.runtime.app"))
    assert _layer_violation(imp("commands.polls.start", "nio"))
    assert _layer_violation(imp("commands.core.registry", "commands.parsing.dates"))
    assert _layer_violation(imp("commands.parsing.dates", "commands.general.settings"))
    assert _layer_violation(imp("bot.runtime.events", "commands.general.help"))
    assert _layer_violation(imp("commands.polls.start", "commands.features"))
    assert _layer_violation(imp("bot.runtime.app", "commands.features")) is None
    assert _layer_violation(imp("commands.desk.report", "commands.polls.common")) is None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_docs_architecture_names_every_shared_module_and_only_real_ones() -> None:
    # The layers' shared parts are where a maintainer looks things up: each is named in
    # docs/architecture.md, and every module file the page names exists.
    doc = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    shared = [
        path
        for folder in ("bot", "bot/runtime", "commands", "commands/core", "storage")
        for path in sorted((ROOT / folder).glob("*.py"))
        if path.name != "__init__.py"
    ]
    unnamed = [str(p.relative_to(ROOT)) for p in shared if p.name not in doc]
    assert not unnamed, "docs/architecture.md does not say what these hold: " + ", ".join(unnamed)
    files = {p.name for p in ROOT.glob("*/**/*.py")} | {"__main__.py"}
    named = set(re.findall(r"\b([a-z_]+\.py)\b", doc))
    missing = sorted(named - files)
    assert not missing, "docs/architecture.md names files that do not exist: " + ", ".join(missing)
