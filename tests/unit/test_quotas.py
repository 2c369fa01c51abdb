"""Quotas and quiet hours (issue 13): no member can fill a room with reminders or polls,
ping strangers with a reminder, or make the bot post at night.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.config import ConfigError, load_config
from commands.core.defaults import Defaults, Limits, limits
from commands.reminders.plan import reminder_mentions
from storage.models import ReminderStatus
from storage.models.reminders import Reminder
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, STRANGER, Dialog
from tests.unit.reminder_helpers import env_for, fire


def at(m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, m, d, hh, mm, tzinfo=BERLIN)


def with_limits(dialog: Dialog, **values: Any) -> Dialog:
    dialog.defaults = Defaults(features={"limits": dataclasses.replace(Limits(), **values)})
    return dialog


def reminders(dialog: Dialog) -> list[Reminder]:
    with dialog.database.session() as s:
        return list(s.exec(select(Reminder).order_by(col(Reminder.number))))


# ------------------------------------------------------------------------ reminder quotas


def test_a_member_cannot_set_more_than_50_reminders_by_default(dialog_both: Dialog) -> None:
    dialog = dialog_both
    for i in range(50):
        assert "(#" in dialog.text(ANNA, f"!erinnere jeden tag 0:00 Spam {i}")
    answer = dialog.text(ANNA, "!erinnere jeden tag 0:00 Spam 51")
    assert answer == (
        "Sie haben in diesem Raum schon 50 aktive Erinnerungen – mehr sind nicht möglich. "
        "Ich habe nichts gespeichert. `!erinnerungen` zeigt sie mit Nummer; eine löschen Sie "
        "z. B. mit `!erinnere löschen 3`."
    )
    assert len(reminders(dialog)) == 50
    # Another member is not held back by Anna's, and a deleted one frees a place.
    assert "(#51)" in dialog.text(BEN, "!erinnere morgen 10 Uhr Raum buchen")
    dialog.say(ANNA, "!erinnere löschen 1")
    assert "(#52)" in dialog.text(ANNA, "!erinnere morgen 10 Uhr noch eine")


def test_the_room_limit_counts_everyone_and_paused_ones_count_too(dialog_both: Dialog) -> None:
    dialog = with_limits(dialog_both, reminders_per_member=2, reminders_per_room=3)
    dialog.say(ANNA, "!erinnere jeden montag 9:00 Eins")
    dialog.say(ANNA, "!pause 1")
    dialog.say(ANNA, "!erinnere morgen 10 Uhr Zwei")
    assert "Sie haben in diesem Raum schon 2 aktive" in dialog.text(ANNA, "!erinnere morgen X")
    dialog.say(BEN, "!erinnere morgen 10 Uhr Drei")
    answer = dialog.text(CARLA, "!erinnere morgen 10 Uhr Vier")
    assert answer.startswith("Dieser Raum hat schon 3 aktive Erinnerungen")
    assert len(reminders(dialog)) == 3


def test_a_reminder_that_has_fired_frees_its_place(dialog: Dialog) -> None:
    with_limits(dialog, reminders_per_member=1)
    dialog.say(ANNA, "!erinnere heute 11 Uhr Kaffee")
    assert "schon 1 aktive" in dialog.text(ANNA, "!erinnere heute 12 Uhr Tee")
    fire(dialog.database, at(3, 9, 11, 0), env_for(dialog))
    dialog.now = at(3, 9, 11, 1)
    assert "(#2)" in dialog.text(ANNA, "!erinnere heute 12 Uhr Tee")


def test_quota_answer_in_english(dialog: Dialog) -> None:
    with_limits(dialog, reminders_per_member=1)
    dialog.say(CHAIR, "!settings language english")
    dialog.say(ANNA, "!remind tomorrow 10am one")
    assert dialog.text(ANNA, "!remind tomorrow 11am two") == (
        "You already have 1 active reminder in this room – that is the limit. I haven't saved "
        "anything. `!reminders` shows them with their numbers; delete one with e.g. "
        "`!remind delete 3`."
    )


def test_zero_means_no_limit(dialog: Dialog) -> None:
    with_limits(dialog, reminders_per_member=0, reminders_per_room=0)
    for i in range(3):
        dialog.say(ANNA, f"!erinnere morgen 10 Uhr {i}")
    assert len(reminders(dialog)) == 3


# ---------------------------------------------------------------------------- poll quotas


def test_a_member_may_run_3_polls_at_once_a_room_10(dialog_both: Dialog) -> None:
    dialog = dialog_both
    for i in range(3):
        assert f"Umfrage #{i + 1} läuft" in dialog.text(ANNA, f"!umfrage Frage {i}? | ja | nein")
    answer = dialog.text(ANNA, "!puls")
    assert answer == (
        "Sie haben in diesem Raum schon 3 laufende Umfragen – mehr sind nicht möglich. "
        "Ich habe keine neue gestartet. Eine beenden mit `!schließen N`."
    )
    dialog.say(ANNA, "!schließen 1")
    assert "laufende Umfragen" not in dialog.text(ANNA, "!puls")
    for who in (BEN, CARLA):
        for i in range(3):
            dialog.say(who, f"!umfrage Frage {who} {i}? | ja | nein")
    assert "laufen schon" not in dialog.text(CHAIR, "!umfrage Die zehnte? | ja | nein")
    assert dialog.text(CHAIR, "!umfrage Noch eine? | ja | nein").startswith(
        "In diesem Raum laufen schon 10 Umfragen – mehr sind nicht möglich."
    )


def test_an_ended_poll_frees_its_place(dialog: Dialog) -> None:
    with_limits(dialog, polls_per_member=1)
    dialog.say(ANNA, "!umfrage Termin? | Mo | Di")
    assert "schon 1 laufende" in dialog.text(ANNA, "!puls")
    dialog.now += dt.timedelta(days=4)  # the poll ran out (72 hours)
    assert "laufende" not in dialog.text(ANNA, "!puls")


# ------------------------------------------------------------------------------ addressees


def test_a_reminder_may_only_mention_members_of_the_room(dialog_both: Dialog) -> None:
    dialog = dialog_both
    answer = dialog.text(
        ANNA, "!erinnere morgen 10 Uhr an @fremd:example.org denken", mentions=(STRANGER,)
    )
    assert answer.startswith("@fremd:example.org ist nicht in diesem Raum.")
    assert "Ich habe nichts gespeichert" in answer
    assert reminders(dialog) == []
    dialog.say(ANNA, "!erinnere morgen 10 Uhr Folien an @ben", mentions=(BEN,))
    [r] = reminders(dialog)
    assert reminder_mentions(r) == [BEN]


def test_stored_mentions_that_are_no_list_are_never_read_letter_by_letter() -> None:
    now = at(3, 9)
    r = Reminder(
        room_id="!r:x",
        number=1,
        text="t",
        created_by=ANNA,
        mentions=json.dumps(BEN),
        active_since=now,
        created_at=now,
        updated_at=now,
        source_event_id="$r",
    )
    assert reminder_mentions(r) == [BEN]
    r.mentions = json.dumps([BEN, 7, "x", None])
    assert reminder_mentions(r) == [BEN]
    r.mentions = "{broken"
    assert reminder_mentions(r) == []


def test_someone_who_left_is_not_pinged_any_more(dialog: Dialog) -> None:
    dialog.say(ANNA, "!erinnere heute 11 Uhr Folien an @ben", mentions=(BEN,))
    del dialog.members[BEN]
    result = fire(dialog.database, at(3, 9, 11, 0), env_for(dialog))
    [due] = [d for d in result.due if d.reminder_id]
    assert due.reply is not None
    assert BEN not in due.reply.mentions
    assert "Für:" not in due.reply.body


def test_only_creator_chair_and_coordination_may_delete_or_pause(dialog_both: Dialog) -> None:
    dialog = dialog_both
    dialog.say(ANNA, "!erinnere jeden montag 9:00 Tagesordnung an @ben", mentions=(BEN,))
    refusal = (
        "Erinnerung #1 hat Anna Schmidt gestellt; ändern dürfen sie nur Anna Schmidt, "
        "der Vorsitz und die Koordination."
    )
    for who in (BEN, CARLA):  # mentioned or not: deleting and pausing take it from everyone
        assert dialog.text(who, "!erinnere löschen 1") == refusal
        assert dialog.text(who, "!pause 1") == refusal
    assert "pausiert" in dialog.text(CHAIR, "!pause 1")
    assert "Erinnerung #1" in dialog.text(COORDINATOR, "!weiter 1")
    assert "gelöscht" in dialog.text(ANNA, "!erinnere löschen 1")
    [r] = reminders(dialog)
    assert r.status == ReminderStatus.CANCELLED


def test_the_people_a_reminder_mentions_may_put_it_off(dialog: Dialog) -> None:
    dialog.say(ANNA, "!erinnere heute 11 Uhr Folien an @ben", mentions=(BEN,))
    fire(dialog.database, at(3, 9, 11, 0), env_for(dialog))
    dialog.now = at(3, 9, 11, 5)
    [r] = reminders(dialog)
    assert r.id is not None
    assert "#1" in dialog.text(BEN, "!später 2 stunden", ref=("reminder", r.id))
    refused = dialog.text(CARLA, "!später 2 stunden", ref=("reminder", r.id))
    assert refused.startswith("Erinnerung #1 hat Anna Schmidt gestellt")


# ----------------------------------------------------------------------------- quiet hours


def test_a_reminder_in_the_night_comes_when_the_quiet_hours_end(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!erinnere heute 23:30 Server-Wartung")
    assert answer.splitlines()[-1] == (
        "🌙 Nachts (22:00–06:00 Uhr) poste ich keine Erinnerungen: "
        "diese kommt am Di., 10. März 2026, 06:00 Uhr."
    )
    env = env_for(dialog)
    assert [d for d in fire(dialog.database, at(3, 9, 23, 30), env).due if d.reminder_id] == []
    assert [d for d in fire(dialog.database, at(3, 10, 5, 59), env).due if d.reminder_id] == []
    [due] = [d for d in fire(dialog.database, at(3, 10, 6, 0), env).due if d.reminder_id]
    assert due.reply is not None
    assert "Server-Wartung" in due.reply.body


def test_a_recurring_reminder_at_midnight_comes_at_six(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!erinnere jeden tag 0:00 Spam")
    assert "diese kommt am Di., 10. März 2026, 06:00 Uhr" in answer
    env = env_for(dialog)
    assert [d for d in fire(dialog.database, at(3, 10, 0, 0), env).due if d.reminder_id] == []
    [due] = [d for d in fire(dialog.database, at(3, 10, 6, 0), env).due if d.reminder_id]
    assert due.reply is not None
    assert not due.late
    # The next night's occurrence is again held until six.
    assert [d for d in fire(dialog.database, at(3, 11, 0, 1), env).due if d.reminder_id] == []


def test_quiet_hours_are_configurable_and_can_be_off(dialog: Dialog) -> None:
    with_limits(dialog, quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0))
    answer = dialog.text(ANNA, "!erinnere heute 23:30 Server-Wartung")
    assert "Nachts" not in answer
    env = dataclasses.replace(env_for(dialog), defaults=dialog.defaults)
    [due] = [d for d in fire(dialog.database, at(3, 9, 23, 30), env).due if d.reminder_id]
    assert due.reply is not None


# ------------------------------------------------------------------------------ the config


def test_limits_and_quiet_hours_come_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "homeserver: https://matrix.example.org\n"
        "user_id: '@bot:example.org'\n"
        "password: x\n"
        "limits:\n"
        "  reminders_per_member: 5\n"
        "  polls_per_room: 0\n"
        "  command_burst: 10\n"
        "  command_interval_seconds: 1.5\n"
        "quiet_hours:\n"
        "  start: 21:30\n"  # unquoted: YAML reads minutes, the config a time of day
        "  end: '07:00'\n",
        "utf-8",
    )
    found = limits(load_config(path, environ={}).build_defaults())
    assert found == Limits(
        reminders_per_member=5,
        polls_per_room=0,
        command_burst=10,
        command_interval=dt.timedelta(seconds=1.5),
        quiet_start=dt.time(21, 30),
        quiet_end=dt.time(7, 0),
    )
    # The example configuration gives the defaults.
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    assert limits(load_config(example, environ={"GREMIENBOT_PASSWORD": "x"}).build_defaults()) == (
        Limits()
    )


def test_a_wrong_limit_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "homeserver: https://matrix.example.org\nuser_id: '@bot:example.org'\npassword: x\n"
        "limits:\n  reminders_per_member: -1\nquiet_hours:\n  start: '25:00'\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    text = str(err.value)
    assert "limits.reminders_per_member" in text
    assert "quiet_hours.start" in text


def test_a_reminder_put_off_into_the_night_says_when_it_comes(dialog: Dialog) -> None:
    dialog.say(ANNA, "!erinnere heute 11 Uhr Folien")
    fire(dialog.database, at(3, 9, 11, 0), env_for(dialog))
    dialog.now = at(3, 9, 11, 5)
    [r] = reminders(dialog)
    assert r.id is not None
    answer = dialog.text(ANNA, "!später heute 23 Uhr", ref=("reminder", r.id))
    assert answer.splitlines()[-1].endswith("diese kommt am Di., 10. März 2026, 06:00 Uhr.")
    env = env_for(dialog)
    assert [d for d in fire(dialog.database, at(3, 9, 23, 0), env).due if d.reminder_id] == []
    [due] = [d for d in fire(dialog.database, at(3, 10, 6, 0), env).due if d.reminder_id]
    assert due.reply is not None


def test_who_is_awake_at_night_gets_a_reminder_asked_for_that_night(dialog: Dialog) -> None:
    dialog.now = at(3, 9, 23, 0)
    answer = dialog.text(ANNA, "!erinnere in 20 minuten Backup prüfen")
    assert "Nachts" not in answer
    env = env_for(dialog)
    [due] = [d for d in fire(dialog.database, at(3, 9, 23, 20), env).due if d.reminder_id]
    assert due.reply is not None
    # Asked for the next night, or asked in the evening for the night: held until six.
    answer = dialog.text(ANNA, "!erinnere morgen 23:30 noch etwas")
    assert "diese kommt am Mi., 11. März 2026, 06:00 Uhr" in answer
    dialog.now = at(3, 10, 21, 50)
    answer = dialog.text(ANNA, "!erinnere in 20 minuten Licht aus")
    assert "diese kommt am Mi., 11. März 2026, 06:00 Uhr" in answer
