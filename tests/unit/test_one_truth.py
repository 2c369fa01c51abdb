"""One truth in every report: the same room and year read the same through the leadership
report (`!bericht`), the committee's evaluation (`!auswertung`), the overview
(`!übersicht`) and the exports, and match what a reader counts by hand from the year's
agreements and pulses.

The year is built at the size of real use: a few hundred agreements in each of two
committees, one in Berlin and one in New York (a day ends at different moments), some done
late, some done at 23:30 local time on their due day (on time in the room's zone, the next
day in UTC), some overdue with a reason and some without, some cancelled, some carried over
from the year before; pulses with very unequal numbers of answers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from commands.exports.run import make_scope
from storage.db import Database
from storage.figures.period import year
from storage.models import AgreementStatus, PollKind
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, Dialog
from tests.export_data import render

NEW_YORK = ZoneInfo("America/New_York")
BERLIN_ROOM = "!arbeitskreis:example.org"
NEW_YORK_ROOM = "!beirat:example.org"
NAMES = {BERLIN_ROOM: "Arbeitskreis Übergang", NEW_YORK_ROOM: "Beirat Partnerschaft"}
ZONES = {BERLIN_ROOM: BERLIN, NEW_YORK_ROOM: NEW_YORK}
NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=BERLIN)
PER_ROOM = 240


@dataclass(frozen=True)
class Planned:
    """One agreement as a reader of the room's log sees it, in the room's local time."""

    created: dt.datetime
    due: dt.date | None
    # None: still open.
    closed: dt.datetime | None = None
    status: AgreementStatus = AgreementStatus.OPEN
    reason: str | None = None


def plan_room(zone: ZoneInfo, rng: random.Random) -> Iterator[Planned]:
    """A year of a committee's agreements, with the corner cases of the definitions."""
    start = dt.datetime(2025, 11, 1, 9, 0, tzinfo=zone)
    for i in range(PER_ROOM):
        created = start + dt.timedelta(days=rng.randrange(0, 390), hours=rng.randrange(0, 10))
        if created >= NOW.astimezone(zone) - dt.timedelta(days=1):
            created = NOW.astimezone(zone) - dt.timedelta(days=2)
        due = None if i % 9 == 0 else created.date() + dt.timedelta(days=rng.randrange(3, 90))
        kind = i % 6
        if kind in (0, 1) and due is not None:  # done on or before the due date
            done_day = min(due, created.date() + dt.timedelta(days=rng.randrange(1, 20)))
            closed = dt.datetime.combine(done_day, dt.time(23, 30), tzinfo=zone)
        elif kind == 2 and due is not None:  # done late
            late = dt.datetime.combine(due, dt.time(9, 0), tzinfo=zone)
            closed = late + dt.timedelta(days=rng.randrange(1, 30))
        elif kind == 3:  # cancelled
            yield Planned(created, due, created + dt.timedelta(days=5), AgreementStatus.CANCELLED)
            continue
        else:  # open; past due: overdue, half of them with a reason
            reason = "Zahlen des Landesamts kommen erst im Januar" if i % 4 == 0 else None
            yield Planned(created, due, None, AgreementStatus.OPEN, reason)
            continue
        if closed is None or closed >= NOW:
            yield Planned(created, due)
        else:
            yield Planned(created, due, closed, AgreementStatus.DONE)


@dataclass
class Counted:
    """The figures counted by hand, for the year 2026 in the room's zone."""

    recorded: int = 0
    recorded_done: int = 0
    recorded_on_time: int = 0
    recorded_overdue: int = 0
    due: int = 0
    due_on_time: int = 0
    done: int = 0
    done_on_time: int = 0
    active: int = 0
    open_now: int = 0
    overdue_now: int = 0


def count(planned: list[Planned], zone: ZoneInfo) -> Counted:
    today = NOW.astimezone(zone).date()
    c = Counted()
    for p in planned:
        created = p.created.date()
        closed = p.closed.astimezone(zone).date() if p.closed is not None else None
        done = p.status == AgreementStatus.DONE
        on_time = done and (p.due is None or (closed is not None and closed <= p.due))
        overdue = p.status == AgreementStatus.OPEN and p.due is not None and p.due < today
        in_year = created.year == 2026
        if in_year and p.status != AgreementStatus.CANCELLED:
            c.recorded += 1
            c.recorded_done += done
            c.recorded_on_time += on_time
            c.recorded_overdue += overdue
        if (
            p.status != AgreementStatus.CANCELLED
            and p.due is not None
            and p.due.year == 2026
            and p.due < today
        ):
            c.due += 1
            c.due_on_time += on_time
        if done and closed is not None and closed.year == 2026:
            c.done += 1
            c.done_on_time += on_time
        if created.year <= 2026 and (closed is None or closed.year >= 2026):
            c.active += 1
        c.open_now += p.status == AgreementStatus.OPEN
        c.overdue_now += overdue
    return c


# A pulse with three 5s and one with ten 1s: 25 / 13 = 1.92 pooled (3.0 as mean of means).
PULSES = [(dt.datetime(2026, 5, 12, 10, 0), [5, 5, 5]), (dt.datetime(2026, 5, 26, 10), [1] * 10)]


@pytest.fixture
def year_2026(dialog_both: Dialog) -> dict[str, Counted]:
    rng = random.Random(20)
    counted: dict[str, Counted] = {}
    db: Database = dialog_both.database
    with db.session() as s:
        for room_id, zone in ZONES.items():
            seed.room(s, room_id, name=NAMES[room_id], settings={"timezone": zone.key})
            planned = list(plan_room(zone, rng))
            for n, p in enumerate(planned):
                a = seed.agreement(
                    s,
                    room_id,
                    f"Vorhaben {n} des {NAMES[room_id]}",
                    by=CHAIR,
                    at=p.created,
                    owners=[(ANNA, BEN, CARLA)[n % 3]],
                    due=p.due,
                    status=p.status,
                    closed_at=p.closed,
                )
                if p.reason is not None:
                    assert a.id is not None
                    seed.change(s, a.id, at=p.created, delay_reason=p.reason)
            counted[room_id] = count(planned, zone)
            for when, scores in PULSES:
                local = when.replace(tzinfo=zone)
                seed.poll(
                    s,
                    room_id,
                    "Wie zufrieden sind Sie mit der heutigen Sitzung?",
                    by=CHAIR,
                    at=local,
                    kind=PollKind.PULSE,
                    votes=[[str(v)] for v in scores],
                    closed_at=local + dt.timedelta(hours=2),
                )
    dialog_both.now = NOW
    return counted


FIGURES = re.compile(
    r"(\d+) festgehalten, davon (\d+) erledigt, (\d+) fristgerecht, (\d+) überfällig"
)
PUNCTUALITY = re.compile(r"(\d+) von (\d+) im Zeitraum fälligen fristgerecht erledigt")
DONE = re.compile(r"(\d+) im Zeitraum erledigt, davon (\d+) fristgerecht")
NOW_LINE = re.compile(r"heute (\d+) offen, davon (\d+) überfällig")


def numbers(pattern: re.Pattern[str], body: str) -> list[tuple[int, ...]]:
    return [tuple(int(g) for g in m.groups()) for m in pattern.finditer(body)]


def expected_lines(c: Counted) -> dict[str, tuple[int, ...]]:
    return {
        "recorded": (c.recorded, c.recorded_done, c.recorded_on_time, c.recorded_overdue),
        "punctuality": (c.due_on_time, c.due),
        "done": (c.done, c.done_on_time),
        "now": (c.open_now, c.overdue_now),
    }


def test_every_report_counts_the_same_year_the_same_way(
    dialog_both: Dialog, year_2026: dict[str, Counted]
) -> None:
    room = dialog_both
    berlin, new_york = year_2026[BERLIN_ROOM], year_2026[NEW_YORK_ROOM]
    # The cases the year must hold for the comparison to mean anything.
    for c in (berlin, new_york):
        assert c.recorded > 150
        assert c.recorded_overdue > 10
        assert c.due_on_time < c.due
        assert c.active > c.recorded
        assert c.done != c.recorded_done

    # The leadership report: rooms in the order of their names, after the total.
    report = "\n".join(m.body for m in room.say(COORDINATOR, "!bericht 2026"))
    for pattern, key in ((FIGURES, "recorded"), (PUNCTUALITY, "punctuality"), (DONE, "done")):
        found = numbers(pattern, report)
        assert expected_lines(berlin)[key] in found, (key, found)
        assert expected_lines(new_york)[key] in found, (key, found)
    assert expected_lines(berlin)["now"] in numbers(NOW_LINE, report)
    assert expected_lines(new_york)["now"] in numbers(NOW_LINE, report)
    assert "1,9" in report
    assert "3,0" not in report

    # The evaluation of each committee: the same lines, the same pooled pulse mean.
    for room_id, c in year_2026.items():
        room.room_id = room_id
        evaluation = "\n".join(m.body for m in room.say(CHAIR, "!auswertung 2026"))
        assert expected_lines(c)["recorded"] in numbers(FIGURES, evaluation)
        assert expected_lines(c)["punctuality"] in numbers(PUNCTUALITY, evaluation)
        assert expected_lines(c)["done"] in numbers(DONE, evaluation)
        assert "1,9" in evaluation
        assert "3,0" not in evaluation

    # The overview: what is open and overdue now.
    overview = room.say(COORDINATOR, "!übersicht")[0].body
    for room_id, c in year_2026.items():
        line = next(li for li in overview.splitlines() if NAMES[room_id] in li)
        assert f"{c.open_now} offen, {c.overdue_now} überfällig" in line

    # The export of the year, in each room's zone: the active cohort, its overdue ones.
    for room_id, c in year_2026.items():
        scope = make_scope(
            room_ids=(room_id,), period=year(2026), lang="de", tz=ZONES[room_id], now=NOW
        )
        archive = zipfile.ZipFile(io.BytesIO(render(room.database, "csv", scope)))
        rows = list(
            csv.DictReader(io.StringIO(archive.read("verabredungen.csv").decode("utf-8-sig")))
        )
        assert len(rows) == c.active
        assert sum(1 for r in rows if r["Status"] == "überfällig") == c.overdue_now
