"""Dialog tests of `!erinnere`, `!erinnerungen`, `!später`, `!pause`/`!weiter` and settings.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from commands.reminders.plan import plan
from storage.models import AgreementStatus, ReminderStatus
from storage.models.reminders import Reminder, ReminderSnooze
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, Dialog
from tests.unit.reminder_helpers import add_agreement, env_for, fire


def at(m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, m, d, hh, mm, tzinfo=BERLIN)


def reminders(dialog: Dialog) -> list[Reminder]:
    with dialog.database.session() as s:
        return list(s.exec(select(Reminder).order_by(col(Reminder.number))))


# ------------------------------------------------------------------------------ !erinnere


def test_one_off_reminder_is_confirmed_with_date_time_and_number(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!erinnere morgen 10 Uhr Raum 2.14 buchen")
    assert answer == (
        "Gut, ich erinnere hier am Di., 10. März 2026, 10:00 Uhr an „Raum 2.14 buchen“ (#1). "
        "Löschen mit `!erinnere löschen 1`."
    )
    [r] = reminders(dialog)
    assert r.due_at == at(3, 10, 10)
    assert r.text == "Raum 2.14 buchen"
    assert r.created_by == ANNA


def test_date_without_time_uses_the_room_reminder_hour(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen erinnerungszeit 8:30")
    assert "Mo., 16. März 2026, 08:30 Uhr" in dialog.text(ANNA, "!erinnere 16.3. Bericht")


def test_in_minutes_is_exact_to_the_second(dialog: Dialog) -> None:
    dialog.now = dialog.now.replace(second=42)
    dialog.say(ANNA, "!erinnere in 20 minuten Kaffee holen")
    [r] = reminders(dialog)
    assert r.due_at == dialog.now + dt.timedelta(minutes=20)


def test_recurring_reminder(dialog: Dialog) -> None:
    answer = dialog.text(BEN, "!erinnere jeden montag 9:00 Tagesordnung einreichen")
    assert answer.startswith(
        "Gut, ich erinnere hier jeden Montag um 09:00 Uhr an „Tagesordnung einreichen“ (#1), "
        "zum ersten Mal am Mo., 16. März 2026."
    )
    english = dialog.text(BEN, "!remind every first tuesday of the month prepare the meeting")
    assert "(#2)" in english
    assert "jeden ersten Dienstag im Monat" in english


def test_bad_reminders_are_refused_and_nothing_is_stored(dialog: Dialog) -> None:
    assert "Woran und wann" in dialog.text(ANNA, "!erinnere")
    assert "verstehe ich nicht als Zeitpunkt" in dialog.text(ANNA, "!erinnere irgendwann mal")
    assert "Woran soll ich erinnern" in dialog.text(ANNA, "!erinnere morgen 10 Uhr")
    assert "in der Vergangenheit" in dialog.text(ANNA, "!erinnere heute 8 Uhr Kaffee")
    assert "zu lang" in dialog.text(ANNA, "!erinnere morgen " + "x" * 1001)
    assert "Traceback" not in dialog.text(ANNA, "!erinnere 31.2. x")
    assert reminders(dialog) == []


def test_reminder_text_is_escaped_in_html(dialog: Dialog) -> None:
    [reply] = dialog.say(ANNA, "!erinnere morgen <script>alert(1)</script>")
    assert "<script>" not in reply.html
    assert "&lt;script&gt;" in reply.html


def test_one_off_reminder_fires_once_at_its_exact_time_mentioning_who_was_named(
    dialog: Dialog,
) -> None:
    dialog.say(ANNA, "!erinnere heute 21:30 Folien an @ben schicken", mentions=(BEN,))
    env = env_for(dialog)
    with dialog.database.session() as s:
        assert plan(s, at(3, 9, 10, 16), env).next_at == at(3, 9, 21, 30)
    assert [d for d in fire(dialog.database, at(3, 9, 21, 29), env).due if d.reminder_id] == []
    [due] = [d for d in fire(dialog.database, at(3, 9, 21, 30), env).due if d.reminder_id]
    assert due.reply is not None
    assert due.reply.ref_kind == "reminder"
    assert due.reply.body.startswith("⏰ Erinnerung (#1, von Anna Schmidt): Folien an")
    assert due.reply.mentions == (BEN,)
    assert not due.late
    assert [d for d in fire(dialog.database, at(3, 9, 21, 31), env).due if d.reminder_id] == []
    [r] = reminders(dialog)
    assert r.status == ReminderStatus.DONE


# ----------------------------------------------------------------- list, delete, pause


def test_reminders_lists_what_comes_next_with_times(dialog: Dialog) -> None:
    add_agreement(
        dialog.database,
        number=4,
        text="Bericht schreiben",
        due=dt.date(2026, 3, 13),
        owners=[CARLA],
    )
    dialog.say(ANNA, "!erinnere morgen 10 Uhr Raum buchen")
    dialog.say(BEN, "!erinnere jeden freitag 12:00 Wochenpost")
    answer = dialog.text(ANNA, "!erinnerungen")
    assert answer.splitlines() == [
        "Geplante Erinnerungen in diesem Raum",
        "• Di., 10.3., 10:00 Uhr – #1 „Raum buchen“",
        "• Mi., 11.3., 09:00 Uhr – #4 „Bericht schreiben“: Erinnerung vor der Frist (Carla Weber)",
        "• Fr., 13.3., 12:00 Uhr – #2 „Wochenpost“ (jeden Freitag um 12:00 Uhr)",
        "• Mo., 16.3., 09:00 Uhr – Wochenüberblick",
    ]


def test_empty_list(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen digest aus")
    assert "keine Erinnerung geplant" in dialog.text(ANNA, "!erinnerungen")


def test_delete_by_number_only_by_its_author_chair_or_coordination(dialog: Dialog) -> None:
    dialog.say(ANNA, "!erinnere morgen 10 Uhr Raum buchen")
    dialog.say(ANNA, "!erinnere morgen 11 Uhr Kaffee")
    refused = dialog.text(BEN, "!erinnere löschen 1")
    assert "Anna Schmidt" in refused
    assert "Vorsitz" in refused
    assert "ist gelöscht" in dialog.text(ANNA, "!erinnere loeschen 1")
    assert "ist gelöscht" in dialog.text(CHAIR, "!erinnerungen löschen 2")
    assert "schon verschickt oder gelöscht" in dialog.text(ANNA, "!erinnere löschen 1")
    assert "keine Erinnerung #9" in dialog.text(ANNA, "!erinnere löschen 9")
    assert "keine Nummer" in dialog.text(ANNA, "!erinnere löschen x")
    assert [r.status for r in reminders(dialog)] == [
        ReminderStatus.CANCELLED,
        ReminderStatus.CANCELLED,
    ]
    assert "#1" not in dialog.text(ANNA, "!erinnerungen")


def test_pause_and_resume_a_recurring_reminder(dialog: Dialog) -> None:
    dialog.say(BEN, "!erinnere werktags 8:30 Post lesen")
    env = env_for(dialog)
    assert "pausiert" in dialog.text(BEN, "!pause 1")
    assert "schon pausiert" in dialog.text(BEN, "!pause 1")
    assert "pausiert – #1" in dialog.text(ANNA, "!erinnerungen")
    assert [d for d in fire(dialog.database, at(3, 10, 8, 30), env).due if d.reminder_id] == []
    dialog.now = at(3, 11, 12, 0)
    answer = dialog.text(COORDINATOR, "!weiter 1")
    assert (
        "läuft wieder (werktags um 08:30 Uhr); die nächste kommt am Do., 12. März 2026." in answer
    )
    # What fell due during the pause is not made up.
    assert [d for d in fire(dialog.database, at(3, 11, 12, 1), env).due if d.reminder_id] == []
    [due] = [d for d in fire(dialog.database, at(3, 12, 8, 30), env).due if d.reminder_id]
    assert due.reply is not None
    assert "(#1, werktags um 08:30 Uhr): Post lesen" in due.reply.body
    assert "nicht pausiert" in dialog.text(BEN, "!resume 1")


def test_pause_needs_a_recurring_reminder_and_rights(dialog: Dialog) -> None:
    dialog.say(ANNA, "!erinnere morgen 10 Uhr Raum buchen")
    dialog.say(ANNA, "!erinnere jeden montag Sitzung")
    assert "einmalige" in dialog.text(ANNA, "!pause 1")
    assert "dürfen sie nur" in dialog.text(BEN, "!pause 2")
    assert "Welche Erinnerung" in dialog.text(ANNA, "!pause")
    # As a reply to the posted reminder, no number is needed: Monday's is posted first.
    fire(dialog.database, at(3, 16, 9), env_for(dialog))
    dialog.now = at(3, 16, 9, 5)
    assert "pausiert" in dialog.text(ANNA, "!pause", ref=("reminder", reminders(dialog)[1].id))


# -------------------------------------------------------------------------------- !später


def test_snooze_as_reply_to_an_agreement_reminder_moves_the_next_reminder(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=4, text="Bericht", due=dt.date(2026, 3, 13), owners=[ANNA])
    env = env_for(dialog)
    dialog.say(CHAIR, "!einstellungen digest aus")
    [_before] = [d for d in fire(db, at(3, 11, 9), env).due if d.agreement_id == a]
    dialog.now = at(3, 11, 9, 5)
    answer = dialog.text(ANNA, "!später 3 tage", ref=("agreement", a))
    # Saturday 14 March 09:05 is no working day: Monday morning.
    assert answer == (
        "Gut, an #4 erinnere ich wieder am Mo., 16. März 2026, 09:00 Uhr. "
        "Die Frist bleibt unverändert: Fr., 13. März 2026."
    )
    assert [d for d in fire(db, at(3, 13, 9), env).due if d.agreement_id == a] == []
    [snoozed] = [d for d in fire(db, at(3, 16, 9), env).due if d.agreement_id == a and d.reply]
    assert snoozed.kind == "snooze"
    assert snoozed.reply is not None
    assert "Fällig war am Fr., 13. März 2026" in snoozed.reply.body
    assert snoozed.reply.mentions == (ANNA,)
    # The overdue reminders after the snooze go on as before.
    assert [d.kind for d in fire(db, at(3, 20, 9), env).due if d.agreement_id == a] == ["overdue"]


def test_snooze_by_number_in_english_and_default_one_day(dialog: Dialog) -> None:
    a = add_agreement(
        dialog.database, number=2, text="Budget", due=dt.date(2026, 3, 20), owners=[BEN]
    )
    assert "Di., 10. März 2026, 10:15 Uhr" in dialog.text(BEN, "!snooze 2")
    assert "Mo., 9. März 2026, 12:15 Uhr" in dialog.text(BEN, "!später #2 2 stunden")
    with dialog.database.session() as s:
        row = s.get(ReminderSnooze, ("agreement", a))
        assert row is not None
        assert row.until == at(3, 9, 12, 15)


def test_snooze_refusals(dialog: Dialog) -> None:
    a = add_agreement(
        dialog.database, number=2, text="Budget", due=dt.date(2026, 3, 20), owners=[BEN]
    )
    add_agreement(
        dialog.database,
        number=3,
        text="Fertig",
        due=dt.date(2026, 3, 20),
        owners=[BEN],
        status=AgreementStatus.DONE,
    )
    assert "Was soll ich verschieben?" in dialog.text(BEN, "!später 3 tage")
    assert "dürfen nur" in dialog.text(CARLA, "!später 2 3 tage")
    assert "nicht mehr offen" in dialog.text(BEN, "!später 3 1 tag")
    assert "keine Verabredung #9" in dialog.text(BEN, "!später 9 1 tag")
    # As a reply to #2's reminder, posted two working days before its due date:
    fire(dialog.database, at(3, 18, 9), env_for(dialog))
    dialog.now = at(3, 18, 9, 5)
    assert "verstehe ich nicht" in dialog.text(BEN, "!später bald mal", ref=("agreement", a))
    with dialog.database.session() as s:
        assert s.exec(select(ReminderSnooze)).all() == []


def test_snooze_a_posted_one_off_reminder(dialog: Dialog) -> None:
    dialog.say(ANNA, "!erinnere heute 11 Uhr Raum buchen")
    env = env_for(dialog)
    fire(dialog.database, at(3, 9, 11), env)
    [r] = reminders(dialog)
    assert r.status == ReminderStatus.DONE
    dialog.now = at(3, 9, 11, 1)
    answer = dialog.text(ANNA, "!später 30 min", ref=("reminder", r.id))
    assert "Erinnerung #1 erinnere ich wieder am Mo., 9. März 2026, 11:31 Uhr" in answer
    [again] = [d for d in fire(dialog.database, at(3, 9, 11, 31), env).due if d.reminder_id]
    assert again.reply is not None
    assert "Raum buchen" in again.reply.body


# ------------------------------------------------------------------------------ settings


def test_reminder_settings_are_shown_and_changed_by_the_chair(dialog: Dialog) -> None:
    shown = dialog.text(ANNA, "!einstellungen")
    assert "Erinnerung vor der Frist: 2 Arbeitstage vorher" in shown
    assert "Uhrzeit der Erinnerungen: 09:00 Uhr" in shown
    assert "Erinnerung bei Überfälligkeit: alle 7 Tage, höchstens 3-mal" in shown
    assert "Wochenüberblick: montags, 09:00 Uhr" in shown
    assert "Bundesland (Feiertage): NW" in shown
    assert "Vorsitz" in dialog.text(ANNA, "!einstellungen erinnerung 3 tage vorher")
    assert "3 Arbeitstage vorher" in dialog.text(CHAIR, "!einstellungen erinnerung 3 tage vorher")
    assert "alle 14 Tage, höchstens 2-mal" in dialog.text(
        CHAIR, "!einstellungen überfällig alle 2 wochen, 2 mal"
    )
    assert "ist jetzt aus" in dialog.text(CHAIR, "!einstellungen ueberfaellig aus")
    assert "freitags, 13:30 Uhr" in dialog.text(CHAIR, "!einstellungen digest freitag 13:30")
    assert "ist jetzt aus" in dialog.text(CHAIR, "!einstellungen digest aus")
    assert "montags, 09:00 Uhr" in dialog.text(CHAIR, "!einstellungen digest an")
    assert "08:15 Uhr" in dialog.text(CHAIR, "!einstellungen erinnerungszeit 8:15")
    assert "BY" in dialog.text(CHAIR, "!einstellungen bundesland Bayern")
    assert "ist jetzt aus" in dialog.text(CHAIR, "!einstellungen erinnerung aus")


def test_reminder_settings_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!settings language en")
    assert "3 working days before" in dialog.text(CHAIR, "!settings reminder 3 days before")
    assert "every 7 days, at most 5 times" in dialog.text(
        CHAIR, "!settings overdue every 7 days 5 times"
    )
    assert "Mondays, 09:00" in dialog.text(CHAIR, "!settings digest monday 9am")
    assert "is now off" in dialog.text(CHAIR, "!settings digest off")
    assert "State (public holidays) is now BE" in dialog.text(CHAIR, "!settings state be")


def test_bad_setting_values_are_refused(dialog: Dialog) -> None:
    for command, expected in (
        ("!einstellungen erinnerung 30 tage vorher", "0 bis 20"),
        ("!einstellungen erinnerung bald", "verstehe ich nicht"),
        ("!einstellungen erinnerungszeit 23:00", "zwischen 06:00 Uhr und 20:00 Uhr"),
        ("!einstellungen überfällig alle 0 tage", "verstehe ich nicht"),
        ("!einstellungen digest sonnabends früh", "verstehe ich nicht"),
        ("!einstellungen bundesland Texas", "NW"),
    ):
        assert expected in dialog.text(CHAIR, command), command
    shown = dialog.text(ANNA, "!einstellungen")
    assert "2 Arbeitstage vorher" in shown
    assert "Bundesland (Feiertage): NW" in shown


def test_settings_change_the_policy_the_scheduler_uses(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=1, text="x", due=dt.date(2026, 6, 5), owners=[ANNA])
    dialog.say(CHAIR, "!einstellungen digest aus")
    dialog.say(CHAIR, "!einstellungen bundesland BY")
    dialog.say(CHAIR, "!einstellungen erinnerungszeit 7:45")
    env = env_for(dialog)
    with db.session() as s:
        # Thursday 4 June (Corpus Christi) is a holiday in Bavaria: Tuesday 2 June.
        assert plan(s, at(5, 25), env).next_at == at(6, 2, 7, 45)
    assert [d.kind for d in fire(db, at(6, 2, 7, 45), env).due if d.agreement_id == a] == ["before"]


def test_help_explains_the_reminder_commands(dialog: Dialog) -> None:
    overview = dialog.text(ANNA, "!hilfe")
    assert "Erinnerungen" in overview
    assert "`!erinnere morgen 10 Uhr Raum buchen`" in overview
    detail = dialog.text(ANNA, "!hilfe später")
    assert "Frist bleibt" in detail
    assert "!snooze" in detail
    assert "`!erinnere morgen 10 Uhr Raum buchen`" in dialog.text(ANNA, "!help remind")


def test_what_an_agreement_reminder_asks_for_works_on_it(dialog: Dialog) -> None:
    """The reminder says: ✅ on it, or reply `!später 3 tage`. Both act on the agreement."""
    db = dialog.database
    a = add_agreement(db, number=4, text="Bericht", due=dt.date(2026, 3, 13), owners=[ANNA])
    b = add_agreement(db, number=5, text="Raum", due=dt.date(2026, 3, 13), owners=[ANNA])
    due = fire(db, at(3, 11, 9), env_for(dialog)).due
    [first] = [d for d in due if d.agreement_id == a]
    [second] = [d for d in due if d.agreement_id == b]
    assert first.reply is not None
    assert second.reply is not None
    assert "Mit ✅ auf diese Nachricht reagieren" in first.reply.body
    assert "mit `!später 3 tage` antworten" in first.reply.body
    dialog.now = at(3, 11, 9, 5)
    [done] = dialog.react(ANNA, "✅", ("agreement", a))
    assert done.body.startswith("✅ #4 ist erledigt")
    answer = dialog.text(ANNA, "!später 3 tage", ref=("agreement", b))
    assert answer.startswith("Gut, an #5 erinnere ich wieder am")


def test_settings_of_one_read_in_the_singular(dialog: Dialog) -> None:
    assert "1 Arbeitstag vorher" in dialog.text(CHAIR, "!einstellungen erinnerung 1 tag vorher")
    assert "täglich, höchstens einmal" in dialog.text(
        CHAIR, "!einstellungen überfällig alle 1 tage 1 mal"
    )
    dialog.say(CHAIR, "!settings language en")
    assert "1 working day before" in dialog.text(CHAIR, "!settings reminder 1 day before")
    assert "every day, at most once" in dialog.text(CHAIR, "!settings overdue every 1 day 1 time")


def test_the_weekly_overview_setting_has_a_german_name(dialog: Dialog) -> None:
    assert "freitags, 13:30 Uhr" in dialog.text(
        CHAIR, "!einstellungen wochenüberblick freitag 13:30"
    )
    refused = dialog.text(CHAIR, "!einstellungen wochenüberblick irgendwann")
    assert "`!einstellungen wochenüberblick montag 9:00`" in refused
    assert "digest" not in refused
