"""What anonymity costs per answer: a survey statement answered by direct message, when
every vote rewrites the statement's whole set of votes in random order (storage/shuffled.py).

Run: pytest -m benchmark tests/benchmarks/bench_survey_answers.py -s

The bot's whole path for a poll response (bot.runtime.incoming.handle_poll_response:
context, the survey's checks, the shuffled rewrite, participation, the handled-event
record, commit) on a SQLite file, for the last answers of a committee of 10, 50 and 200
members (so 9, 49 and 199 votes rewritten each time). Each figure is a median in ms and
its ratio to a plain `!verabredung … bis Freitag` handled in the same process (the same
harness, tests/dialog.py). Targets: an answer costs at most the design's ceiling of 50 ms
of bot time, and in a committee of 50 at most 1.5 times a `!verabredung`.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import upgrade
from tests.benchmarks.results import Figures, at_most
from tests.dialog import COORDINATOR, Dialog, Sent
from tests.unit.test_survey import env_of, polls_of, wake

TIMED = 9  # the last answers of each committee are timed
BASELINE_ROUNDS = 30


def _committee(path: Path, size: int) -> Dialog:
    db = Database(f"sqlite:///{path / f'committee-{size}.db'}")
    upgrade(db.engine)
    members = {f"@m{i:03d}:example.org": f"Mitglied {i}" for i in range(size)}
    members[COORDINATOR] = "Bildungsbüro"
    return Dialog(db, members=members)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _agreement_ms(dialog: Dialog) -> float:
    samples = []
    for n in range(BASELINE_ROUNDS):
        started = time.perf_counter()
        dialog.say(COORDINATOR, f"!verabredung Bericht {n} an das Schulamt bis Freitag")
        samples.append(time.perf_counter() - started)
    return _median_ms(samples)


def _answers_ms(dialog: Dialog) -> float:
    """Every member answers the first statement; the last TIMED answers are timed."""
    dialog.text(COORDINATOR, "!auswertung starten")
    sent = wake(dialog, dialog.now, env_of(dialog))
    first_poll: dict[str, Sent] = {}
    for s in sent:
        if s.to_user is not None and s.to_user not in first_poll and polls_of([s]):
            first_poll[s.to_user] = s
    voters = [u for u in dialog.members if u != COORDINATOR]
    samples = []
    for i, who in enumerate(voters):
        dialog.now += dt.timedelta(seconds=30)
        started = time.perf_counter()
        dialog.answer_poll(who, first_poll[who].event_id, ("4",), room_id=dialog.dm_room(who))
        if i >= len(voters) - TIMED:
            samples.append(time.perf_counter() - started)
    return _median_ms(samples)


@pytest.mark.benchmark
@pytest.mark.parametrize("size", [10, 50, 200])
def test_a_survey_answer_costs_little_although_every_vote_rewrites_the_set(
    tmp_path: Path, figures: Figures, size: int
) -> None:
    dialog = _committee(tmp_path, size)
    baseline = _agreement_ms(dialog)
    answer = _answers_ms(dialog)
    ratio = answer / baseline
    print(
        f"\ncommittee of {size}: survey answer {answer:.2f} ms median, "
        f"!verabredung {baseline:.2f} ms, ratio {ratio:.2f}"
    )
    ceiling = at_most(50.0)
    figures.add(f"survey answer by DM, committee of {size} (median)", answer, "ms", target=ceiling)
    relative = at_most(1.5) if size == 50 else None
    name = f"ratio survey answer / !verabredung, committee of {size}"
    figures.add(name, ratio, "", target=relative)
    assert ceiling.met(answer), f"{answer:.2f} ms"
    assert relative is None or relative.met(ratio), f"ratio {ratio:.2f}"
