"""The follow-up agenda: the working day before each planned meeting, at the reminder hour,
the room's open agreements, overdue and due-by-the-meeting first, owners mentioned."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlmodel import col, select

from bot.runtime.scheduler import run_timers
from commands.core.defaults import Defaults
from commands.core.i18n import Language
from commands.core.timers import TimerEnv
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, REGISTRY, ROOM, Dialog

# The first Tuesday of April 2026 follows Easter Monday (6 April) and Good Friday (3 April),
# both public holidays in NW: its agenda is due on Thursday, 2 April.
MEETING = dt.date(2026, 4, 7)
AGENDA_AT = dt.datetime(2026, 4, 2, 9, 0, tzinfo=BERLIN)
KEY = f"meeting-agenda:{ROOM}:2026-04-07"
# The scheduler's timers but the reminders' and the invitation's (they have tests of their
# own, and the invitation is due before the agenda).
TIMERS = [t for t in REGISTRY.timers if t.name not in ("reminders", "meeting-invitation")]
NAMES = {ANNA: "Anna Schmidt", BEN: "Ben Okafor", CARLA: "Carla Weber", CHAIR: "Vorsitz Meyer"}


def env(language: Language = "de") -> TimerEnv:
    return TimerEnv(defaults=Defaults(language=language), members=lambda room: NAMES)


def wake(db: Database, now: dt.datetime, language: Language = "de") -> dt.datetime | None:
    """One wake-up of the scheduler's timers; when they want to be called next."""
    with db.session() as s:
        return run_timers(s, now, env(language), TIMERS).next_at


def agendas(db: Database) -> list[dict[str, Any]]:
    """The agendas the bot queued, oldest first."""
    with db.session() as s:
        rows = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    contents = [json.loads(r.content) for r in rows]
    return [c for c in contents if c["body"].startswith("📋")]


def plan_series(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan jeden ersten Dienstag im Monat 16 Uhr")


def test_agenda_comes_the_working_day_before_a_meeting_after_easter_once(dialog: Dialog) -> None:
    plan_series(dialog)
    dialog.say(ANNA, "!verabredung Elternbrief entwerfen @ben bis 7.4.", mentions=(BEN,))
    # Monday before: not yet; the timer asks to be called at the agenda's moment.
    assert wake(dialog.database, AGENDA_AT - dt.timedelta(days=3)) == AGENDA_AT
    assert wake(dialog.database, AGENDA_AT - dt.timedelta(minutes=1)) == AGENDA_AT
    assert agendas(dialog.database) == []

    wake(dialog.database, AGENDA_AT)
    # A restart at the same moment: the database knows it was posted.
    wake(dialog.database, AGENDA_AT)
    wake(dialog.database, AGENDA_AT + dt.timedelta(hours=3))
    [agenda] = agendas(dialog.database)
    assert agenda["body"].startswith("📋 Nachhalten – Sitzung am Di., 7. April 2026, 16:00 Uhr")
    assert "• #1 „Elternbrief entwerfen“ – Frist: Di., 7.4. – Ben Okafor" in agenda["body"]
    assert agenda["m.mentions"] == {"user_ids": [BEN]}
    with dialog.database.session() as s:
        assert outbox.by_key(s, KEY) is not None


def test_overdue_first_then_due_by_the_meeting_then_the_rest_done_ones_left_out(
    dialog: Dialog,
) -> None:
    plan_series(dialog)
    dialog.say(ANNA, "!verabredung Raum buchen @carla", mentions=(CARLA,))
    dialog.say(ANNA, "!verabredung Elternbrief entwerfen @ben bis 7.4.", mentions=(BEN,))
    dialog.say(ANNA, "!verabredung Haushalt prüfen @anna bis 20.3.")
    dialog.say(ANNA, "!verabredung Bericht <b>fertig</b> bis 1.4.")
    dialog.say(ANNA, "!verabredung Flyer drucken bis 30.3.")
    dialog.say(ANNA, "!erledigt 5")
    dialog.say(ANNA, "!grund 3 Zahlen der Kämmerei fehlen")
    wake(dialog.database, AGENDA_AT)
    [agenda] = agendas(dialog.database)
    # An overdue item says why it is late, or that nobody said.
    assert agenda["body"].split("\n")[1:] == [
        "4 offene Verabredungen. Bitte bis zur Sitzung den Stand prüfen und Erledigtes mit der "
        "Nummer aus der Liste melden, z. B. `!erledigt 3`.",
        "Überfällig (2):",
        "• #3 „Haushalt prüfen“ – Frist: Fr., 20.3. – Anna Schmidt – Grund: Zahlen der "
        "Kämmerei fehlen",
        "• #4 „Bericht <b>fertig</b>“ – Frist: Mi., 1.4. – Anna Schmidt – kein Grund genannt",
        "Fällig bis zur Sitzung (1):",
        "• #2 „Elternbrief entwerfen“ – Frist: Di., 7.4. – Ben Okafor",
        "Weitere offene (1):",
        "• #1 „Raum buchen“ – Frist: keine – Carla Weber",
    ]
    assert sorted(agenda["m.mentions"]["user_ids"]) == sorted([ANNA, BEN, CARLA])
    assert "Flyer" not in agenda["body"]
    assert "&lt;b&gt;fertig&lt;/b&gt;" in agenda["formatted_body"]


def test_an_agenda_missed_while_the_bot_was_down_comes_before_the_meeting_not_after(
    dialog: Dialog,
) -> None:
    plan_series(dialog)
    # Down from Wednesday to the meeting's morning: posted late, still before the meeting.
    wake(dialog.database, dt.datetime(2026, 4, 7, 8, 0, tzinfo=BERLIN))
    [agenda] = agendas(dialog.database)
    assert "Keine offenen Verabredungen – nichts nachzuhalten." in agenda["body"]
    # The May meeting's agenda is missed entirely: once it has begun, none is owed.
    wake(dialog.database, dt.datetime(2026, 5, 5, 16, 30, tzinfo=BERLIN))
    assert len(agendas(dialog.database)) == 1


def test_no_agenda_owed_for_a_meeting_planned_after_its_agenda_moment(dialog: Dialog) -> None:
    dialog.now = dt.datetime(2026, 4, 6, 12, 0, tzinfo=BERLIN)  # Easter Monday, noon
    dialog.say(CHAIR, "!sitzung plan morgen 16 Uhr")
    assert wake(dialog.database, dialog.now) is None
    assert agendas(dialog.database) == []


def test_a_deleted_plan_posts_no_agenda(dialog: Dialog) -> None:
    plan_series(dialog)
    dialog.say(CHAIR, "!sitzung plan löschen")
    assert wake(dialog.database, AGENDA_AT) is None
    assert agendas(dialog.database) == []


def test_an_english_room_gets_an_english_agenda(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    room.say(CHAIR, "!meeting plan every first tuesday of the month 4pm")
    wake(dialog.database, AGENDA_AT, language="en")
    [agenda] = agendas(dialog.database)
    assert agenda["body"].startswith("📋 Follow-up – meeting on Tue, 7 April 2026, 16:00")


def test_what_the_agenda_asks_for_closes_the_agreement_and_a_tick_on_it_is_not_asked_for(
    dialog: Dialog,
) -> None:
    """The list is one message about many agreements: a ✅ on it could not say which one
    is meant, so it asks for `!erledigt` with the number instead, and that works."""
    plan_series(dialog)
    dialog.say(ANNA, "!verabredung Raum buchen @ben bis 30.3.", mentions=(BEN,))
    dialog.say(ANNA, "!verabredung Elternbrief entwerfen @ben bis 7.4.", mentions=(BEN,))
    wake(dialog.database, AGENDA_AT)
    [agenda] = agendas(dialog.database)
    assert "✅" not in agenda["body"]
    example = re.search(r"`(!erledigt \d+)`", agenda["body"])
    assert example is not None
    dialog.now = AGENDA_AT + dt.timedelta(hours=1)
    assert "ist erledigt" in dialog.text(BEN, example[1])
    done = int(example[1].split()[1])
    assert "Status: erledigt" in dialog.text(BEN, f"!zeige {done}")
    assert "Status: offen" in dialog.text(BEN, f"!zeige {3 - done}")


def test_an_agenda_with_one_agreement_says_so_in_the_singular(dialog: Dialog) -> None:
    plan_series(dialog)
    dialog.say(ANNA, "!verabredung Raum buchen bis 30.3.")
    wake(dialog.database, AGENDA_AT)
    [agenda] = agendas(dialog.database)
    assert agenda["body"].split("\n")[1].startswith("1 offene Verabredung. Bitte")
    assert "`!erledigt 1`" in agenda["body"]
