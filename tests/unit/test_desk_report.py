"""The report for the leadership: `!bericht` / `!report` on demand, and once a month by itself."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.runtime.scheduler import run_timers
from commands.core import i18n
from commands.core.defaults import Defaults
from commands.core.timers import TimerEnv
from commands.desk.periods import parse_period
from commands.desk.settings import ReportSettings
from storage import lease, rooms
from storage.db import Database
from storage.models import OutboxMessage
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, REGISTRY, ROOM, Dialog

JUGEND = "!jugendhilfe:example.org"
LEITUNG = "!leitung:example.org"


def february(dialog: Dialog) -> Dialog:
    """Two committees' February: recorded, done on time, done late, still open."""
    dialog.now = dt.datetime(2026, 2, 2, 10, tzinfo=BERLIN)
    jugend = Dialog(dialog.database, room_id=JUGEND, now=dialog.now, _ids=itertools.count(1000))
    dialog.say(ANNA, "!verabredung Bericht an Schulamt @ben bis 10.2.", mentions=(BEN,))
    dialog.say(ANNA, "!verabredung Einladung Fachtag bis 5.2.")
    dialog.say(ANNA, "!verabredung Schulentwicklungsplanung fortschreiben bis 27.2.")
    jugend.say(CARLA, "!verabredung Fortschreibung der Schulentwicklungsplanung bis 20.3.")
    with dialog.database.session() as s:
        rooms.remember_name(s, ROOM, "Schulausschuss")
        rooms.remember_name(s, JUGEND, "Jugendhilfeausschuss")
    dialog.now = dt.datetime(2026, 2, 9, 10, tzinfo=BERLIN)
    dialog.say(CHAIR, "!sitzung start Februarsitzung")
    dialog.say(BEN, "!erledigt 1")
    dialog.say(ANNA, "!erledigt 2")
    _pulse(dialog, ("4", "5", "3"))  # mean 4.0, three answers: counted
    _pulse(dialog, ("1", "1"))  # two answers: never shown, not counted
    dialog.say(CHAIR, "!sitzung ende")
    dialog.now = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
    return jugend


def _pulse(dialog: Dialog, answers: tuple[str, ...]) -> None:
    """A pulse in the room, answered and closed at once."""
    [start, _confirmation] = dialog.say(CHAIR, "!puls")
    for who, value in zip((ANNA, BEN, CARLA), answers, strict=False):
        dialog.answer_poll(who, start.event_id, (value,))
    dialog.say(CHAIR, "!schließen")


def test_the_coordination_gets_last_months_report_without_names(dialog: Dialog) -> None:
    february(dialog)
    [reply] = dialog.say(COORDINATOR, "!bericht")
    assert reply.body.splitlines() == [
        "Bericht an die Leitung: Februar 2026",
        "Verabredungen von 2 Gremien im Zeitraum, ohne Namen einzelner Mitglieder. "
        "Fristgerecht heißt: bis zum Ende der Frist erledigt oder ohne Frist.",
        "",
        "Verabredungen je Gremium",
        # "fristgerecht" once, for those done; the due dates are their own cohort.
        "Alle Gremien: 4 neu, 2 erledigt, davon 1 fristgerecht · "
        "Fristen im Zeitraum: 1 von 3 eingehalten (33 %)",
        "Jugendhilfeausschuss: 1 neu, 0 erledigt, davon 0 fristgerecht · "
        "keine Frist im Zeitraum abgelaufen",
        "Schulausschuss: 3 neu, 2 erledigt, davon 1 fristgerecht · "
        "Fristen im Zeitraum: 1 von 3 eingehalten (33 %)",
        "",
        "Sitzungen",
        "Sitzungen in allen Gremien: 1",
        "Jugendhilfeausschuss: 0",
        "Schulausschuss: 1",
        "",
        "Zufriedenheit (Puls, 1–5)",
        "Schulausschuss: Mittelwert 4,0 aus 1 Puls (kein Vergleichswert)",
        "",
        "Mögliche Doppelstrukturen",
        "• Schulausschuss #3 „Schulentwicklungsplanung fortschreiben“ ↔ Jugendhilfeausschuss "
        "#1 „Fortschreibung der Schulentwicklungsplanung“ (Ähnlichkeit 100 %)",
    ]
    for name in ("Anna", "Ben", "Carla", "Schmidt", "Okafor", "Weber", "@"):
        assert name not in reply.body
    assert reply.mentions == ()


def test_a_chosen_month_or_year_in_english(dialog: Dialog) -> None:
    february(dialog)
    dialog.say(CHAIR, "!einstellungen sprache en")
    body = dialog.text(COORDINATOR, "!report 2026")
    assert body.startswith("Report to the leadership: 2026\n")
    assert "All committees: 4 new, 2 done, 1 of them on time · due dates in the period" in body
    october = dialog.text(COORDINATOR, "!report October")
    assert october.startswith("Report to the leadership: October 2025\n")
    assert (
        "All committees: 0 new, 0 done, 0 of them on time · no due date passed in the period"
        in october
    )


def test_the_pulse_trend_names_the_earlier_value_and_which_way_it_went(dialog: Dialog) -> None:
    """Not "↑ 4,0", which reads like a rise of 4.0: the earlier mean with its label."""
    february(dialog)
    dialog.now = dt.datetime(2026, 3, 16, 10, tzinfo=BERLIN)
    _pulse(dialog, ("5", "5", "5"))
    dialog.now = dt.datetime(2026, 4, 2, 10, tzinfo=BERLIN)
    body = dialog.text(COORDINATOR, "!bericht März")
    assert "Schulausschuss: Mittelwert 5,0 aus 1 Puls (Vorzeitraum: 4,0 – gestiegen)" in body
    assert "↑" not in body
    dialog.say(CHAIR, "!einstellungen sprache en")
    body = dialog.text(COORDINATOR, "!report March")
    assert "Schulausschuss: mean 5.0 from 1 pulse (previous period: 4.0 – up)" in body


@pytest.mark.parametrize(
    ("asked", "start", "end"),
    [
        ("", dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
        ("Oktober", dt.date(2025, 10, 1), dt.date(2025, 11, 1)),
        ("märz", dt.date(2026, 3, 1), dt.date(2026, 4, 1)),
        ("Okt. 2024", dt.date(2024, 10, 1), dt.date(2024, 11, 1)),
        ("10/2025", dt.date(2025, 10, 1), dt.date(2025, 11, 1)),
        ("2025-12", dt.date(2025, 12, 1), dt.date(2026, 1, 1)),
        ("2026", dt.date(2026, 1, 1), dt.date(2027, 1, 1)),
        ("December 2025", dt.date(2025, 12, 1), dt.date(2026, 1, 1)),
    ],
)
def test_report_periods_people_write(asked: str, start: dt.date, end: dt.date) -> None:
    found = parse_period(asked, dt.date(2026, 3, 9))
    assert found is not None
    assert (found.period.start, found.period.end) == (start, end)


@pytest.mark.parametrize(
    "asked", ["gestern", "13/2025", "April 2026", "2027", "Oktober x", "1999", "9999", "12/9999"]
)
def test_periods_that_do_not_parse_or_have_not_begun_are_refused(
    dialog: Dialog, asked: str
) -> None:
    answer = dialog.text(COORDINATOR, f"!bericht {asked}")
    assert answer.startswith(f"Den Zeitraum „{asked}“ verstehe ich nicht")
    assert "So geht es: `!bericht` · `!bericht Oktober` · `!bericht 2026`" in answer


def test_a_member_or_chair_may_not_ask_for_the_report(dialog: Dialog) -> None:
    for who in (ANNA, CHAIR):
        refusal = dialog.text(who, "!bericht")
        assert refusal == i18n.plain("de", "permission.needs_coordination", command="!bericht")
        assert "Koordination" in refusal


# ----------------------------------------------------------------------- the monthly post


def env(zone: str = "Europe/Berlin", **settings: object) -> TimerEnv:
    report = ReportSettings(**{"room": LEITUNG, "day": 1, "hour": 8, **settings})  # type: ignore[arg-type]
    return TimerEnv(defaults=Defaults(timezone=zone, features={"report": report}))


def running_since(db: Database, day: dt.date) -> None:
    """The bot's scheduler first ran then: no report owed from before is posted."""
    with db.session() as s:
        lease.ensure_epoch(s, dt.datetime.combine(day, dt.time(12), BERLIN))


def tick(db: Database, at: dt.datetime, environment: TimerEnv) -> dt.datetime | None:
    """One wake-up of the scheduler: the timers run and queue what they owe (not the
    reminders', which have tests of their own)."""
    timers = [t for t in REGISTRY.timers if t.name != "reminders"]
    with db.session() as s:
        return run_timers(s, at, environment, timers).next_at


def reports_sent(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        rows = s.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.room_id) == LEITUNG)
            .order_by(col(OutboxMessage.id))
        )
        return [(r.txn_id, json.loads(r.content)["body"].splitlines()[0]) for r in rows]


def test_the_monthly_report_is_posted_once_at_its_hour_across_a_restart(
    dialog: Dialog,
) -> None:
    february(dialog)
    db = dialog.database
    running_since(db, dt.date(2026, 2, 1))
    environment = env()
    before = dt.datetime(2026, 3, 1, 7, 59, tzinfo=BERLIN)
    assert tick(db, before, environment) == dt.datetime(2026, 3, 1, 8, tzinfo=BERLIN)
    assert reports_sent(db) == []
    at_eight = dt.datetime(2026, 3, 1, 8, tzinfo=BERLIN)
    assert tick(db, at_eight, environment) == dt.datetime(2026, 4, 1, 8, tzinfo=BERLIN)
    # The bot restarts and wakes again the same morning: nothing twice.
    tick(db, at_eight, environment)
    tick(db, at_eight + dt.timedelta(hours=3), environment)
    [(_, title)] = reports_sent(db)
    assert title == "Bericht an die Leitung: Februar 2026"
    tick(db, dt.datetime(2026, 4, 1, 8, tzinfo=BERLIN), environment)
    assert [t for _, t in reports_sent(db)] == [
        "Bericht an die Leitung: Februar 2026",
        "Bericht an die Leitung: März 2026",
    ]
    # The leadership's room is no committee of the report.
    with db.session() as s:
        rooms.ensure_room(s, LEITUNG, joined_at=at_eight)
    tick(db, dt.datetime(2026, 5, 1, 8, tzinfo=BERLIN), environment)
    assert "Verabredungen von 2 Gremien" in last_body(db)


def last_body(db: Database) -> str:
    with db.session() as s:
        row = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc())).first()
        assert row is not None
        return str(json.loads(row.content)["body"])


def test_a_report_missed_while_the_bot_was_down_is_posted_once_after(dialog: Dialog) -> None:
    db = dialog.database
    dialog.say(ANNA, "!hilfe")
    environment = env(day=31, hour=23)
    # Down from before the 31st of March, 23:00 until the 1st of April.
    tick(db, dt.datetime(2026, 4, 1, 0, 30, tzinfo=BERLIN), environment)
    tick(db, dt.datetime(2026, 4, 2, 9, 0, tzinfo=BERLIN), environment)
    assert [t for _, t in reports_sent(db)] == ["Bericht an die Leitung: Februar 2026"]
    # April has 30 days: its report comes on the 30th.
    assert tick(db, dt.datetime(2026, 4, 3, tzinfo=BERLIN), environment) == dt.datetime(
        2026, 4, 30, 23, tzinfo=BERLIN
    )


def test_the_hour_is_the_configured_time_zones(dialog: Dialog) -> None:
    db = dialog.database
    dialog.say(ANNA, "!hilfe")
    running_since(db, dt.date(2026, 2, 15))
    environment = env(zone="America/New_York", hour=8)
    new_york = ZoneInfo("America/New_York")
    # 8:00 in Berlin is 2:00 in New York: not yet.
    tick(db, dt.datetime(2026, 3, 1, 8, tzinfo=BERLIN), environment)
    assert reports_sent(db) == []
    assert tick(db, dt.datetime(2026, 3, 1, 8, tzinfo=new_york), environment) == dt.datetime(
        2026, 4, 1, 8, tzinfo=new_york
    )
    assert len(reports_sent(db)) == 1


def test_no_report_room_no_monthly_post_and_none_from_before_the_bot_ran(
    dialog: Dialog,
) -> None:
    db = dialog.database
    dialog.say(ANNA, "!hilfe")
    off = TimerEnv(defaults=Defaults(features={"report": ReportSettings()}))
    assert tick(db, dt.datetime(2026, 3, 1, 9, tzinfo=BERLIN), off) is None
    running_since(db, dt.date(2026, 3, 5))
    tick(db, dt.datetime(2026, 3, 5, 12, tzinfo=BERLIN), env())
    assert reports_sent(db) == []
