"""The invitation reminder: at the rules' invitation period (Ladungsfrist) before each
planned meeting, at the room's reminder hour, the chairs are told by when the invitation
must go out, with the draft agenda; once per meeting, and none owed from before the plan
or before the bot first ran.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import col, select

from bot.runtime.scheduler import run_timers
from commands.core.defaults import Defaults
from commands.core.i18n import Language
from commands.core.timers import TimerEnv
from storage import lease
from storage.db import Database
from storage.models import OutboxMessage
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, REGISTRY, Dialog

TIMERS = [t for t in REGISTRY.timers if t.name == "meeting-invitation"]
NAMES = {ANNA: "Anna Schmidt", BEN: "Ben Okafor", CARLA: "Carla Weber", CHAIR: "Vorsitz Meyer"}


def wake(db: Database, now: dt.datetime, language: Language = "de") -> dt.datetime | None:
    """One wake-up of the invitation timer; when it wants to be called next."""
    env = TimerEnv(
        defaults=Defaults(language=language),
        members=lambda room: NAMES,
        power_levels=lambda room: {CHAIR: 50},
    )
    with db.session() as s:
        return run_timers(s, now, env, TIMERS).next_at


def reminders(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    contents = [json.loads(r.content) for r in rows]
    return [c for c in contents if c["body"].startswith("📨")]


def berlin(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=BERLIN)


def test_the_chair_is_reminded_once_on_the_last_day_with_the_draft_agenda(
    dialog: Dialog,
) -> None:
    dialog.say(CHAIR, "!geschäftsordnung setze ladungsfrist 14 tage")
    dialog.say(CHAIR, "!sitzung plan am 12.1.2027 16 Uhr")
    dialog.say(ANNA, "!top Haushalt 2027")
    due = berlin(2026, 12, 29)
    assert wake(dialog.database, dialog.now) == due
    assert wake(dialog.database, due - dt.timedelta(minutes=1)) == due
    assert reminders(dialog.database) == []

    wake(dialog.database, due)
    wake(dialog.database, due)  # a restart at the same moment
    wake(dialog.database, due + dt.timedelta(days=3))
    [reminder] = reminders(dialog.database)
    lines = reminder["body"].split("\n")
    assert lines[0] == (
        "📨 Vorsitz Meyer: Die Einladung für die Sitzung am Di., 12. Januar 2027, 16:00 Uhr "
        "muss bis Di., 29. Dezember 2026 raus (Ladungsfrist: 14 Tage). Entwurf der "
        "Tagesordnung:"
    )
    assert lines[1].startswith("1. Eröffnung und Feststellung der ordnungsgemäßen Einladung")
    assert "4. „Haushalt 2027“ (angemeldet von Anna Schmidt)" in lines
    assert lines[-2] == "5. Verschiedenes"
    # Both periods are 14 days: items may still be asked for on the invitation's last day.
    assert lines[-1].startswith("Weitere Punkte anmelden mit `!top <Thema>` bis Di., 29. Dez")
    assert reminder["m.mentions"] == {"user_ids": [CHAIR]}
    assert reminder["msgtype"] == "m.text"  # it notifies


def test_a_last_day_on_a_holiday_weekend_is_reminded_on_the_working_day_before(
    dialog: Dialog,
) -> None:
    # 9 days before Tuesday, 14 April 2026 is Easter Sunday; Good Friday is a holiday too.
    dialog.say(CHAIR, "!geschäftsordnung setze ladungsfrist 9 tage")
    dialog.say(CHAIR, "!sitzung plan am 14.4. 16 Uhr")
    assert wake(dialog.database, dialog.now) == berlin(2026, 4, 2)
    wake(dialog.database, berlin(2026, 4, 2))
    [reminder] = reminders(dialog.database)
    assert "muss bis So., 5. April 2026 raus (Ladungsfrist: 9 Tage)" in reminder["body"]


def test_each_meeting_of_a_series_gets_its_own_reminder(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan jeden zweiten Dienstag im Monat 16 Uhr")
    # Default: 7 days. April's meeting is on the 14th, May's on the 12th.
    for day in (berlin(2026, 4, 7), berlin(2026, 5, 5)):
        wake(dialog.database, day - dt.timedelta(hours=1))
        wake(dialog.database, day)
    bodies = [r["body"].split("\n")[0] for r in reminders(dialog.database)]
    # March's (the 10th) was due on the 3rd, before the plan was set: not owed.
    assert [b.split("Sitzung am ")[1].split(" muss")[0] for b in bodies] == [
        "Di., 14. April 2026, 16:00 Uhr",
        "Di., 12. Mai 2026, 16:00 Uhr",
    ]


def test_none_is_owed_from_before_the_bot_first_ran(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan am 14.4. 16 Uhr")
    # The bot first ran after the reminder's moment (7 April, 09:00), down since the plan.
    with dialog.database.session() as s:
        lease.ensure_epoch(s, berlin(2026, 4, 7, 12))
    wake(dialog.database, berlin(2026, 4, 7, 13))
    assert reminders(dialog.database) == []


def test_english_invitation_reminder(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    room.say(CHAIR, "!meeting plan 14.4. 4pm")
    wake(room.database, berlin(2026, 4, 7), "en")
    [reminder] = reminders(room.database)
    assert reminder["body"].startswith(
        "📨 Vorsitz Meyer: The invitation to the meeting on Tue, 14 April 2026, 16:00 must go "
        "out by Tue, 7 April 2026 (notice period: 7 days). Draft agenda:\n1. Opening"
    )
    assert "`!item <topic>`" in reminder["body"]
