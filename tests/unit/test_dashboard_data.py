"""What the coordination's dashboard shows (commands.desk.dashboard_data) for a year of
fifteen committees (tests/dashboard_scene.py): the same figures as `!bericht`,
`!übersicht` and the read model, offices instead of people, nothing below three answers,
and a chair sees their own committee only. Built once for the module, read many times.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import col, select

from bot.runtime.renderer import make_file
from commands.core.context import Role
from commands.core.defaults import Defaults
from commands.core.file_jobs import CONFIG_PARAM
from commands.core.room import committee_zones
from commands.desk.dashboard_data import (
    PDF_EVALUATION,
    PDF_REPORT,
    Refused,
    Viewer,
    export_order,
    labels,
    overview,
)
from storage.db import Database, sqlite_url
from storage.figures.agreements import agreement_figures
from storage.figures.period import year
from storage.figures.votes import distributions
from storage.migrate import upgrade
from storage.models import Agreement, AgreementStatus, Poll, PollKind
from tests.dashboard_scene import (
    HOSTILE_REASON,
    HOSTILE_TEXT,
    KNOWN_OFFICE,
    KNOWN_REASON,
    KNOWN_TEXT,
    NAMES,
    OFFICES,
    REASON,
    TWIN,
    TWIN_ALIKE,
    Scene,
    build,
)
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, REGISTRY, Dialog
from tests.papers_support import words

NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=BERLIN)
DEFAULTS = Defaults()
COORDINATION = Viewer(COORDINATOR, Role.COORDINATION)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Scene]]:
    path = Path(tmp_path_factory.mktemp("dashboard")) / "gremienbot.db"
    db = Database(sqlite_url(path))
    upgrade(db.engine)
    yield db, build(db, now=NOW)
    db.dispose()


@pytest.fixture(scope="module")
def shown(scene: tuple[Database, Scene]) -> dict[str, Any]:
    """What the coordination sees, in German, as the server sends it (through JSON)."""
    db, _ = scene
    with db.session(write=False) as s:
        data = overview(s, COORDINATION, lang="de", now=NOW, defaults=DEFAULTS)
    return dict(json.loads(json.dumps(data)))


# The members' messages of every dialog on the module's database: an event ID heard once
# is never handled again (a replay), so each dialog goes on counting where the last ended.
EVENTS = itertools.count(1)


def dialog_in(db: Database, room_id: str) -> Dialog:
    return Dialog(db, room_id=room_id, now=NOW, power_levels={CHAIR: 50}, _ids=EVENTS)


def report_lines(db: Database, room_id: str, sender: str, command: str) -> list[str]:
    replies = dialog_in(db, room_id).say(sender, command)
    return [line for r in replies for line in r.body.splitlines()]


def block_of(lines: list[str], name: str) -> list[str]:
    """The lines of the report below the committee's name, up to the next empty line."""
    start = next(i for i, line in enumerate(lines) if line.strip("*") == name)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1 : end]


def test_the_coordination_sees_every_committee_with_the_figures_of_the_report(
    scene: tuple[Database, Scene], shown: dict[str, Any]
) -> None:
    db, built = scene
    assert [c["name"] for c in shown["committees"]] == sorted(NAMES, key=str.casefold)
    assert shown["period"]["label"] == "2026"
    # The leadership report of the same year says each committee's lines word for word.
    report = report_lines(db, next(iter(built.rooms)), COORDINATOR, "!bericht 2026")
    for committee in shown["committees"]:
        block = block_of(report, committee["name"])
        for line in committee["lines"]:
            assert "• " + line in block, (committee["name"], line)
    # And the numbers are the read model's, counted for the year in each room's zone.
    with db.session(write=False) as s:
        zones = committee_zones(s, DEFAULTS.zone)
        figures = agreement_figures(s, year(2026), zones, NOW)
    for committee in shown["committees"]:
        f = figures[committee["room_id"]]
        assert (committee["open"], committee["overdue"]) == (f.open_now, f.overdue_now)
        assert (committee["due"], committee["done_on_time"]) == (f.due.total, f.due.on_time)
        assert committee["punctuality"] == pytest.approx(f.due.on_time / f.due.total, abs=1e-3)
    totals = shown["totals"]
    assert totals["open"] == sum(c["open"] for c in shown["committees"])
    assert totals["overdue"] == sum(c["overdue"] for c in shown["committees"]) > 15
    # `!übersicht` says open and overdue now alike.
    overview_text = report_lines(db, next(iter(built.rooms)), COORDINATOR, "!übersicht")
    for committee in shown["committees"]:
        line = next(li for li in overview_text if committee["name"] in li and "offen" in li)
        assert f"{committee['open']} offen, {committee['overdue']} überfällig" in line


def test_overdue_items_name_the_office_the_due_date_and_the_reason_never_a_person(
    scene: tuple[Database, Scene], shown: dict[str, Any]
) -> None:
    db, built = scene
    overdue = shown["overdue"]
    by_room = {c["room_id"]: c["overdue"] for c in shown["committees"]}
    assert len(overdue) == sum(by_room.values())
    for room_id, count in by_room.items():
        assert sum(1 for item in overdue if item["room_id"] == room_id) == count
    assert [i["due"] for i in overdue] == sorted(i["due"] for i in overdue)
    with db.session(write=False) as s:
        rows = {(a.room_id, a.number): a for a in s.exec(select(Agreement))}
    for item in overdue:
        a = rows[(item["room_id"], item["number"])]
        assert a.status == AgreementStatus.OPEN
        assert a.due_date is not None
        assert a.due_date.isoformat() == item["due"] < "2026-12-05"
        assert item["reason"] == (a.delay_reason or "kein Grund genannt")
        assert item["reason_given"] == bool(a.delay_reason)
        assert item["committee"] == built.rooms[item["room_id"]]
    offices = {i["who"] for i in overdue}
    assert offices == {*OFFICES.values(), "Amt nicht angegeben"}
    assert any(i["reason"] == REASON for i in overdue)
    # The HTML a member wrote stays their text: the widget inserts it as text.
    room_id, number = built.hostile
    hostile = next(i for i in overdue if (i["room_id"], i["number"]) == (room_id, number))
    assert (hostile["text"], hostile["reason"]) == (HOSTILE_TEXT, HOSTILE_REASON)
    # The known overdue agreement: its office, due date and reason, in its committee.
    room_id, number = built.known
    known = next(i for i in overdue if (i["room_id"], i["number"]) == (room_id, number))
    assert (known["text"], known["who"]) == (KNOWN_TEXT, KNOWN_OFFICE)
    assert (known["due"], known["reason"]) == (built.known_due.isoformat(), KNOWN_REASON)
    everything = json.dumps(shown, ensure_ascii=False)
    for person in (ANNA, BEN, CARLA, CHAIR, "Anna", "Ben Okafor", "Carla"):
        assert person not in everything


def test_the_curve_of_each_committee_ends_with_what_is_open_and_overdue_now(
    scene: tuple[Database, Scene], shown: dict[str, Any]
) -> None:
    db, _ = scene
    with db.session(write=False) as s:
        rows = list(s.exec(select(Agreement)))
    end_of_november = dt.datetime(2026, 12, 1, tzinfo=BERLIN)
    for committee in shown["committees"]:
        spark = committee["spark"]
        assert [p["month"] for p in spark] == [f"2026-{m:02d}" for m in range(1, 13)]
        assert (spark[-1]["open"], spark[-1]["overdue"]) == (
            committee["open"],
            committee["overdue"],
        )
        # November's point, counted by hand: recorded before December, not closed before it.
        mine = [a for a in rows if a.room_id == committee["room_id"]]
        stood = [
            a
            for a in mine
            if a.created_at < end_of_november
            and (a.closed_at is None or a.closed_at >= end_of_november)
        ]
        late = [a for a in stood if a.due_date is not None and a.due_date < end_of_november.date()]
        assert (spark[-2]["open"], spark[-2]["overdue"]) == (len(stood), len(late))


def test_pulses_and_the_evaluation_show_nothing_below_three_answers(
    scene: tuple[Database, Scene], shown: dict[str, Any]
) -> None:
    db, built = scene
    with db.session(write=False) as s:
        polls = [p for p in s.exec(select(Poll)) if p.kind == PollKind.PULSE]
        counted = distributions(s, [col(Poll.kind) == PollKind.PULSE])
    by_month: dict[str, list[int]] = {}
    for p in polls:
        assert p.id is not None
        d = counted[p.id]
        if d.answers < 3:
            continue  # two answers: left out, as every report leaves it out
        month = p.created_at.astimezone(BERLIN).strftime("%Y-%m")
        by_month.setdefault(month, []).extend(
            v for v, n in zip(range(1, 6), d.counts, strict=True) for _ in range(n)
        )
    assert [p["month"] for p in shown["pulses"]] == sorted(by_month)
    for point in shown["pulses"]:
        answers = by_month[point["month"]]
        assert point["answers"] == len(answers) >= 3
        assert point["mean"] == pytest.approx(statistics.mean(answers), abs=1e-3)
    evaluation = shown["evaluation"]
    assert evaluation["year"] == 2026
    # Committees 3 and 8 had two taking part: neither their rate nor their answers count.
    counted_rooms = [r for i, r in enumerate(built.rooms) if i < 10 and i not in (3, 8)]
    participated = sum(4 + i % 4 for i in range(10) if i not in (3, 8))
    assert evaluation["participated"] == participated
    assert evaluation["invited"] == 9 * len(counted_rooms)
    assert evaluation["response_rate_text"] == f"{round(100 * participated / 72)} %"
    for statement in evaluation["statements"]:
        assert statement["answers"] == participated
    by_name = {c["name"]: c for c in shown["committees"]}
    few = [NAMES[3], NAMES[8]]
    assert all(by_name[name]["evaluation"] is None for name in few)
    assert by_name[NAMES[0]]["evaluation"]["participated"] == 4


def test_overlaps_meetings_and_circulations_of_the_committees(shown: dict[str, Any]) -> None:
    pair = next(o for o in shown["overlaps"] if TWIN in o["texts"])
    assert set(pair["texts"]) == {TWIN, TWIN_ALIKE}
    assert set(pair["committees"]) == {NAMES[1], NAMES[7]}
    assert len(shown["meetings"]) == sum(1 for i in range(15) if i % 4 != 3)
    first = shown["meetings"][0]
    assert first["committee"] == NAMES[0]
    assert first["when"].startswith("2026-12-08T14:00")
    assert first["when_text"] == "Di., 8. Dezember 2026, 14:00 Uhr"
    assert [c["committee"] for c in shown["circulations"]] == [NAMES[0], NAMES[5], NAMES[10]]
    assert [e["format"] for e in shown["exports"]][-2:] == [PDF_REPORT, PDF_EVALUATION]


def test_a_chair_sees_their_committee_only_as_their_report_shows_it(
    scene: tuple[Database, Scene],
) -> None:
    db, built = scene
    room_id = list(built.rooms)[1]
    chair = Viewer(CHAIR, Role.CHAIR, frozenset({room_id}))
    with db.session(write=False) as s:
        seen = overview(s, chair, lang="en", now=NOW, defaults=DEFAULTS)
    assert [c["room_id"] for c in seen["committees"]] == [room_id]
    assert {i["room_id"] for i in seen["overdue"]} == {room_id}
    assert seen["overlaps"] == []  # the alike agreement is another committee's
    assert {m["room_id"] for m in seen["meetings"]} == {room_id}
    assert seen["circulations"] == []
    assert [e["format"] for e in seen["exports"]] == [PDF_REPORT, PDF_EVALUATION]
    assert seen["user"] == {"user_id": CHAIR, "role": "chair"}
    # The chair's own `!report 2026` in their room says the same lines.
    dialog = dialog_in(db, room_id)
    dialog.defaults = Defaults(language="en")
    report = [line for r in dialog.say(CHAIR, "!report 2026") for line in r.body.splitlines()]
    for line in seen["committees"][0]["lines"]:
        assert "• " + line in report
    # No other committee's file, and no export (the chat's `!export` is the coordination's).
    with db.session(write=False) as s:
        for fmt, room in (("pdf-report", list(built.rooms)[2]), ("xlsx", room_id)):
            with pytest.raises(Refused) as refused:
                export_order(
                    s, chair, file_format=fmt, room=room, period_text=None,
                    lang="en", now=NOW, defaults=DEFAULTS,
                )  # fmt: skip
            assert refused.value.status == 403
        order = export_order(
            s, chair, file_format=PDF_REPORT, room="all", period_text="2026",
            lang="en", now=NOW, defaults=DEFAULTS,
        )  # fmt: skip
    assert order.job.name == "report-pdf"
    assert order.job.params["only"] == room_id
    assert order.filename.endswith("-2026.pdf")
    # Their committee's evaluation, as `!evaluation pdf` in their room gives it (this year).
    with db.session(write=False) as s:
        paper = export_order(
            s, chair, file_format=PDF_EVALUATION, room="all", period_text=None,
            lang="en", now=NOW, defaults=DEFAULTS,
        )  # fmt: skip
    asked = dialog.say(CHAIR, "!evaluation pdf")[0]
    assert paper.job.name == "evaluation-pdf"
    assert paper.job.params["room"] == room_id
    assert paper.filename == asked.content["filename"]


def test_the_coordination_downloads_the_chats_export_as_a_spreadsheet(
    scene: tuple[Database, Scene],
) -> None:
    db, _ = scene
    with db.session(write=False) as s:
        order = export_order(
            s, COORDINATION, file_format="xlsx", room="all", period_text=None,
            lang="de", now=NOW, defaults=DEFAULTS,
        )  # fmt: skip
        with pytest.raises(Refused) as refused:
            export_order(
                s, COORDINATION, file_format="xlsx", room="all", period_text="im Winter",
                lang="de", now=NOW, defaults=DEFAULTS,
            )  # fmt: skip
        total = len(list(s.exec(select(Agreement))))
    assert refused.value.status == 400
    assert order.filename == "gremienbot-alle.xlsx"
    make = REGISTRY.file_jobs[order.job.name]
    data = make_file(db, make, {**order.job.params, CONFIG_PARAM: {"offices": {}}})
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.max_row == total + 1  # a header, then every agreement


def test_the_coordination_downloads_the_evaluation_of_every_committee_as_a_pdf(
    scene: tuple[Database, Scene],
) -> None:
    db, _ = scene
    with db.session(write=False) as s:
        order = export_order(
            s, COORDINATION, file_format=PDF_EVALUATION, room="all", period_text="2026",
            lang="de", now=NOW, defaults=DEFAULTS,
        )  # fmt: skip
    assert order.filename == "Auswertung-alle-Gremien-2026.pdf"
    make = REGISTRY.file_jobs[order.job.name]
    data = make_file(db, make, {**order.job.params, CONFIG_PARAM: {"offices": {}}})
    text = words(data)
    assert "Auswertung 2026" in text
    assert NAMES[0] in text  # the table of every committee


def test_the_widget_words_come_in_the_language_asked_for() -> None:
    german, english = labels("de"), labels("en")
    assert german.keys() == english.keys()
    assert german["title"] != english["title"]
