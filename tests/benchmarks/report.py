"""Write tests/benchmarks/RESULTS.md from the figures the benchmarks recorded.

    python -m tests.benchmarks.report --results build/benchmarks/results.json \
        --started 2026-11-30T10:00:00Z --command scripts/benchmarks

`scripts/benchmarks` runs the benchmarks and then this. The page gives the machine
(CPU, cores, memory from /proc), the Python version, the date, the git commit and the
command, then every figure with its target and whether it is met, and how each benchmark
ended.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.benchmarks.results import Figure, Outcome, Results, load_average, with_unit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
REGENERATE = "scripts/benchmarks"

# What each benchmark is, in the order the page lists them (others follow by name).
TITLES = {
    "bench_command_latency": "Reply latency against a local Synapse, next to a minimal echo bot",
    "bench_command_handling": "Bot-side handling of one command (no network)",
    "bench_startup": "Start-up to ready and resident memory: 500 rooms, 50,000 agreements",
    "bench_reminders": "Reminder burst: 1,000 due at once across 100 rooms (rate-limited)",
    "bench_burst": "Command burst: 200 commands in 8 rooms in 8 s, next to the echo bot",
    "bench_backlog": "Backlog of 1,000 commands after a restart, against 1,000 live",
    "bench_committee_day": "A committee day: 50 rooms, 200 members, ~1,000 commands",
    "bench_export": "Exports of 100,000 history rows",
    "bench_hostile_input": "Hostile input: the worst messages against a normal command",
}


def _read(path: str) -> str:
    try:
        return Path(path).read_text("utf-8", errors="replace")
    except OSError:
        return ""


def machine() -> list[tuple[str, str]]:
    cpuinfo = _read("/proc/cpuinfo")
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    logical = len(re.findall(r"^processor\s*:", cpuinfo, re.MULTILINE)) or os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else logical
    memtotal = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    ram = f"{int(memtotal[1]) / 1024 / 1024:.1f} GiB" if memtotal else "unknown"
    cores = f"{logical} logical"
    if usable != logical:
        cores += f", {usable} usable by this process"
    return [
        ("CPU", models[0].strip() if models else platform.processor() or "unknown"),
        ("cores", cores),
        ("RAM", ram),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
    ]


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def commit() -> str:
    head = _git("log", "-1", "--format=%H (%cs, %s)")
    if not head:
        return "unknown (not a git checkout)"
    changed = [
        line[3:]
        for line in _git("status", "--porcelain", "--untracked-files=no").splitlines()
        if not line[3:].endswith("RESULTS.md")
    ]
    if changed:
        head += f", with uncommitted changes in {len(changed)} file(s): " + ", ".join(changed[:8])
    return head


def _merge(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """One line per test: a failed teardown after a passed call makes it an error."""
    rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
    merged: dict[tuple[str, str], Outcome] = {}
    for o in outcomes:
        key = (o.benchmark, o.test)
        before = merged.get(key)
        if before is None:
            merged[key] = o
            continue
        worst = o if rank.get(o.outcome, 3) > rank.get(before.outcome, 3) else before
        merged[key] = Outcome(
            o.benchmark,
            o.test,
            worst.outcome,
            round(before.seconds + o.seconds, 1),
            worst.message or before.message,
            before.load or o.load,
        )
    return list(merged.values())


def _order(benchmarks: set[str]) -> list[str]:
    known = [b for b in TITLES if b in benchmarks]
    return known + sorted(benchmarks - set(TITLES))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _met(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "yes" if figure.met else "**no**"


def render(
    results: Results,
    *,
    started: str,
    finished: str,
    command: str,
    pytest_command: str,
    pytest_status: int | None,
    load: str,
) -> str:
    figures = results.figures
    outcomes = _merge(results.outcomes)
    with_target = [f for f in figures if f.met is not None]
    missed = [f for f in with_target if not f.met]
    lines = [
        "# Benchmark results",
        "",
        f"Regenerate this page with `{REGENERATE}` (runs every benchmark in tests/benchmarks/ "
        "and rewrites it; about half an hour on two cores). How the benchmarks work: "
        "tests/benchmarks/*.py, each module's docstring.",
        "",
        "## Where and when",
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {_cell(v)} |" for k, v in machine()]
    lines += [
        f"| load average (1, 5, 15 min) at the start, at the end | {_cell(load) or 'unknown'}; "
        f"{load_average() or 'unknown'} |",
        f"| date | {started} to {finished} |",
        f"| git commit | {_cell(commit())} |",
        f"| command | `{command}`, which runs `{pytest_command}` |",
    ]
    if pytest_status not in (None, 0):
        lines.append(f"| pytest exit status | {pytest_status} (see the outcomes below) |")
    lines += [
        "",
        "## Summary",
        "",
        f"{len(figures)} figures, {len(with_target)} with a target: "
        f"{len(with_target) - len(missed)} met, {len(missed)} missed" + (":" if missed else "."),
    ]
    if missed:
        lines.append("")
        lines += [
            f"- {f.name} ({f.benchmark}): {with_unit(f.value, f.unit)}, target {f.target}"
            for f in missed
        ]
    lines += ["", "## Figures", ""]
    by_bench: dict[str, list[Figure]] = {}
    for f in figures:
        by_bench.setdefault(f.benchmark, []).append(f)
    ended = {o.benchmark: o for o in outcomes}
    for bench in _order(set(by_bench) | {o.benchmark for o in outcomes}):
        lines += [f"### {TITLES.get(bench, bench)}", ""]
        lines.append(f"`tests/benchmarks/{bench}.py`" + _ended(ended.get(bench)))
        lines.append("")
        rows = by_bench.get(bench, [])
        if not rows:
            lines += ["No figures recorded.", ""]
            continue
        lines += ["| figure | value | target | met | note |", "| --- | ---: | --- | --- | --- |"]
        lines += [
            f"| {_cell(f.name)} | {with_unit(f.value, f.unit)} | {f.target or ''} | {_met(f)} "
            f"| {_cell(f.note)} |"
            for f in rows
        ]
        lines.append("")
    lines += [
        "## Outcomes",
        "",
        "The machine is shared: the load average as each benchmark ended tells how busy it was.",
        "",
        "| benchmark | test | outcome | seconds | load average as it ended |",
        "| --- | --- | --- | ---: | --- |",
    ]
    order = _order({o.benchmark for o in outcomes})
    for o in sorted(outcomes, key=lambda o: order.index(o.benchmark)):
        text = o.outcome + (f": {_cell(o.message)}" if o.message else "")
        lines.append(f"| {o.benchmark} | {o.test} | {text} | {o.seconds:.0f} | {o.load} |")
    return "\n".join(lines) + "\n"


def _ended(outcome: Outcome | None) -> str:
    if outcome is None:
        return ", did not report an outcome."
    if outcome.outcome == "passed":
        return f", passed in {outcome.seconds:.0f} s."
    return f", **{outcome.outcome}** after {outcome.seconds:.0f} s: {_cell(outcome.message)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True, help="the JSON file recorded")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--started", default="")
    parser.add_argument("--command", default=REGENERATE)
    parser.add_argument(
        "--pytest-command",
        default="python -m pytest -m benchmark tests/benchmarks -s -p no:cacheprovider",
    )
    parser.add_argument("--pytest-status", type=int, default=None)
    parser.add_argument("--load", default="", help="/proc/loadavg when the run started")
    args = parser.parse_args(argv)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = render(
        Results.load(args.results),
        started=args.started or now,
        finished=now,
        command=args.command,
        pytest_command=args.pytest_command,
        pytest_status=args.pytest_status,
        load=args.load,
    )
    args.out.write_text(text, "utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
