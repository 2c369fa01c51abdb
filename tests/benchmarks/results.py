"""The benchmarks' figures, collected in one JSON file that `report.py` turns into RESULTS.md.

Each benchmark asks for the `figures` fixture (tests/benchmarks/conftest.py) and hands it
its headline figures, next to what it prints:

    figures.add("reply latency median, gremienbot", 41.3, "ms")
    figures.add("ratio gremienbot / echo bot (median)", 1.04, "", target=at_most(1.1))

A figure with a target says whether it is met. The file is named by the environment
variable GREMIENBOT_BENCH_RESULTS (`scripts/benchmarks` sets it); without it the figures
are only kept in memory, so a benchmark run by hand with pytest works as before. Every
figure is written at once (read, append, replace): a benchmark that fails later still
leaves the figures it had.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

RESULTS_ENV = "GREMIENBOT_BENCH_RESULTS"

Op = Literal["<", "<=", ">=", "=="]
_SHOWN = {"<": "<", "<=": "≤", ">=": "≥", "==": "="}


@dataclass(frozen=True)
class Target:
    """What a figure should be: below, at most, at least or exactly `limit`."""

    op: Op
    limit: float

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.op == "<":
            return value < self.limit
        if self.op == "<=":
            return value <= self.limit
        if self.op == ">=":
            return value >= self.limit
        return value == self.limit

    def text(self, unit: str) -> str:
        return f"{_SHOWN[self.op]} {format_value(self.limit)}{_unit(unit)}"


def below(limit: float) -> Target:
    return Target("<", limit)


def at_most(limit: float) -> Target:
    return Target("<=", limit)


def at_least(limit: float) -> Target:
    return Target(">=", limit)


def exactly(limit: float) -> Target:
    return Target("==", limit)


@dataclass(frozen=True)
class Figure:
    """One recorded figure, as stored in the JSON file."""

    benchmark: str  # the module, e.g. "bench_startup"
    test: str  # the test function
    name: str
    value: float
    unit: str
    target: str | None = None  # e.g. "< 5 s"
    met: bool | None = None  # None: no target
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """How one benchmark test ended (pytest's outcome of its call, or of its set-up)."""

    benchmark: str
    test: str
    outcome: str  # passed | failed | skipped | error
    seconds: float
    message: str = ""
    # /proc/loadavg's 1-minute figure as it ended: on a shared machine, how busy it was.
    load: str = ""


@dataclass
class Results:
    """The whole file: figures and test outcomes in the order they came."""

    figures: list[Figure] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Results:
        if not path.exists() or not path.read_text("utf-8").strip():
            return cls()
        data = json.loads(path.read_text("utf-8"))
        return cls(
            [Figure(**f) for f in data.get("figures", [])],
            [Outcome(**o) for o in data.get("outcomes", [])],
        )

    def save(self, path: Path) -> None:
        data: dict[str, Any] = {
            "figures": [asdict(f) for f in self.figures],
            "outcomes": [asdict(o) for o in self.outcomes],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")
        partial.replace(path)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, as /proc/loadavg has them ("" elsewhere)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return ""


def results_path() -> Path | None:
    value = os.environ.get(RESULTS_ENV)
    return Path(value) if value else None


def _append(
    path: Path | None, figure: Figure | None = None, outcome: Outcome | None = None
) -> None:
    if path is None:
        return
    results = Results.load(path)
    if figure is not None:
        results.figures.append(figure)
    if outcome is not None:
        results.outcomes.append(outcome)
    results.save(path)


def record_outcome(outcome: Outcome) -> None:
    _append(results_path(), outcome=outcome)


class Figures:
    """The recorder one benchmark test gets: `add` a figure, `recorded` what it added."""

    def __init__(self, benchmark: str, test: str, path: Path | None = None) -> None:
        self.benchmark = benchmark
        self.test = test
        self.path = path
        self.recorded: list[Figure] = []

    def add(
        self,
        name: str,
        value: float,
        unit: str = "",
        *,
        target: Target | None = None,
        note: str = "",
    ) -> Figure:
        value = float(value)
        figure = Figure(
            benchmark=self.benchmark,
            test=self.test,
            name=name,
            value=value,
            unit=unit,
            target=target.text(unit) if target is not None else None,
            met=target.met(value) if target is not None else None,
            note=note,
        )
        self.recorded.append(figure)
        _append(self.path, figure=figure)
        return figure


def format_value(value: float) -> str:
    """A figure as a person reads it: integers plain, otherwise three significant digits
    (at least one decimal below 100)."""
    if math.isnan(value):
        return "n/a"
    if value == int(value):
        return f"{int(value):,}".replace(",", " ")
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _unit(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit in ("×", "%") else f" {unit}"


def with_unit(value: float, unit: str) -> str:
    return f"{format_value(value)}{_unit(unit)}"
