"""The benchmarks' recorder: the `figures` fixture, and each benchmark's outcome.

Both go to the JSON file named by GREMIENBOT_BENCH_RESULTS (tests/benchmarks/results.py),
from which `python -m tests.benchmarks.report` writes RESULTS.md (`scripts/benchmarks`
does both).
"""

from __future__ import annotations

import pytest

from tests.benchmarks.results import (
    Figures,
    Outcome,
    load_average,
    record_outcome,
    results_path,
)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """Where a benchmark hands its headline figures (name, value, unit, target)."""
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    return Figures(module, request.node.name, results_path())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note each benchmark's outcome: its call, or its set-up or teardown when that failed."""
    if report.when != "call" and report.passed:
        return
    if report.when != "call" and report.skipped and report.when != "setup":
        return
    path, _, name = report.nodeid.partition("::")
    module = path.rsplit("/", 1)[-1].removesuffix(".py")
    outcome = report.outcome if report.when == "call" else ("error" if report.failed else "skipped")
    message = ""
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = (crash.message if crash is not None else str(report.longrepr)).splitlines()[0]
    seconds = round(report.duration, 1)
    record_outcome(Outcome(module, name, outcome, seconds, message[:300], load_average()))
