"""Meetings in a room: `!sitzung start … ende` with minutes, the plan, and bad input."""

from __future__ import annotations

import datetime as dt

from sqlmodel import func, select

from commands.core.defaults import Defaults
from storage.db import Database
from storage.models import Agreement, Meeting, MeetingAttendee, MeetingPlan
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, Dialog


def stored(db: Database) -> tuple[int, int, int, int]:
    """How many meetings, attendees, plans and agreements are stored."""
    with db.session() as s:
        return (
            s.exec(select(func.count()).select_from(Meeting)).one(),
            s.exec(select(func.count()).select_from(MeetingAttendee)).one(),
            s.exec(select(func.count()).select_from(MeetingPlan)).one(),
            s.exec(select(func.count()).select_from(Agreement)).one(),
        )


def later(dialog: Dialog, minutes: int) -> None:
    dialog.now += dt.timedelta(minutes=minutes)


# ------------------------------------------------------------------------------ meetings


def test_minutes_list_who_confirmed_presence_who_only_wrote_and_the_agreements(
    dialog: Dialog,
) -> None:
    dialog.say(ANNA, "!verabredung Raumplanung Fachtag bis 20.3.")
    dialog.say(BEN, "!verabredung Haushalt prüfen @ben bis 27.3.")
    dialog.chat(CARLA, "Ich schreibe vor der Sitzung, bin aber nicht dabei.")
    later(dialog, 5)
    [started] = dialog.say(CHAIR, "!sitzung start Frühjahrssitzung")
    assert "Sitzung #1 läuft: Frühjahrssitzung" in started.body
    later(dialog, 1)
    dialog.chat(BEN, "Guten Morgen!")
    dialog.react(ANNA, "👍", started.event_id)
    dialog.say(CHAIR, "!verabredung Elternbrief entwerfen @ben bis 31.3.", mentions=(BEN,))
    dialog.say(CHAIR, "!erledigt 1")
    dialog.say(CHAIR, "!frist 2 3.4.")
    later(dialog, 90)
    [minutes] = dialog.say(CHAIR, "!sitzung ende")
    later(dialog, 1)
    dialog.chat(CARLA, "Schade, verpasst.")

    body = minutes.body
    assert "Ergebnisprotokoll – Sitzung #1: Frühjahrssitzung" in body
    assert "Zeit: Mo., 9. März 2026, 10:20–11:51 Uhr" in body
    # Anna's 👍 on the roll call confirms her presence; Ben only wrote; Carla, who wrote
    # before the meeting, and the office are absent.
    assert "Anwesend (2): Anna Schmidt, Vorsitz Meyer" in body
    assert "Außerdem im Chat, ohne Bestätigung der Anwesenheit (1): Ben Okafor" in body
    assert "Abwesend (2): Bildungsbüro, Carla Weber" in body
    assert (
        "Neu festgehalten (1):\n• #3 „Elternbrief entwerfen“ – verantwortlich: Ben Okafor; "
        "Frist: Di., 31. März 2026"
    ) in body
    assert "Erledigt (1):\n• #1 „Raumplanung Fachtag“" in body
    assert "Geändert (1):\n• #2 „Haushalt prüfen“ (Frist geändert)" in body
    # The minutes name people without notifying them.
    assert minutes.mentions == ()
    assert minutes.ref_kind == "meeting"

    # Shown again later, the same.
    [again] = dialog.say(ANNA, "!sitzung protokoll")
    assert again.body == body
    assert dialog.text(ANNA, "!sitzung protokoll 1") == body


def test_a_meeting_without_anything_decided_says_so(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung start")
    later(dialog, 30)
    body = dialog.text(COORDINATOR, "!meeting end")
    assert "Ergebnisprotokoll – Sitzung #1\n" in body
    assert "Anwesend (2): Bildungsbüro, Vorsitz Meyer" in body
    assert "Keine Verabredungen festgehalten, geändert oder erledigt." in body


def test_minutes_show_the_polls_of_the_meeting_but_no_small_breakdowns(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung start")
    start, _ = dialog.say(CHAIR, "!puls")
    for who, value in ((ANNA, "4"), (BEN, "5"), (CARLA, "3")):
        dialog.answer_poll(who, start.event_id, (value,))
    later(dialog, 10)
    dialog.say(CHAIR, "!schließen 1")
    dialog.say(ANNA, "!umfrage Nächster Termin? | Montag | Dienstag")
    dialog.say(BEN, "!stimme 2 1")
    later(dialog, 20)
    body = dialog.text(CHAIR, "!sitzung ende")
    assert "Umfragen (2):" in body
    assert "Puls #1 „Wie zufrieden sind Sie mit der heutigen Sitzung?“: " in body
    assert "4 – zufrieden: 1" in body
    assert "Mittelwert 4,0" in body
    assert "Umfrage #2 „Nächster Termin?“: 1 Stimme (Verteilung erst ab 3 Stimmen)" in body
    assert "Montag: 1" not in body


def test_meeting_numbers_count_per_room_and_the_list_shows_them(dialog: Dialog) -> None:
    for title in ("Januar", "Februar"):
        dialog.say(CHAIR, f"!sitzung start {title}")
        later(dialog, 60)
        dialog.say(CHAIR, "!sitzung ende")
        later(dialog, 60)
    dialog.say(CHAIR, "!sitzung start")
    listed = dialog.text(BEN, "!sitzung liste")
    assert "• #3 – läuft seit Mo., 9. März 2026, 14:15 Uhr" in listed
    assert "• #2 – Mo., 9. März 2026, 12:15–13:15 Uhr – Februar" in listed
    assert "• #1 – Mo., 9. März 2026, 10:15–11:15 Uhr – Januar" in listed
    assert listed.index("#3") < listed.index("#2") < listed.index("#1")
    assert "Februar" in dialog.text(BEN, "!sitzung protokoll 2")


def test_a_title_is_shown_literally_never_as_html(dialog: Dialog) -> None:
    [started] = dialog.say(CHAIR, "!sitzung start <b>Haushalt</b> & Co")
    assert "Sitzung #1 läuft: <b>Haushalt</b> & Co." in started.body
    assert "&lt;b&gt;Haushalt&lt;/b&gt; &amp; Co" in started.html
    later(dialog, 10)
    [minutes] = dialog.say(CHAIR, "!sitzung ende")
    assert "&lt;b&gt;Haushalt&lt;/b&gt; &amp; Co" in minutes.html
    assert "<b>Haushalt</b>" not in minutes.html


def test_english_room_gets_english_minutes(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    assert "Meeting #1 is running" in room.text(CHAIR, "!meeting start")
    room.chat(ANNA, "Hello")
    later(room, 45)
    body = room.text(CHAIR, "!meeting end")
    assert "Minutes – meeting #1" in body
    assert "Time: Mon, 9 March 2026, 10:15–11:00" in body
    assert "Present (1): Vorsitz Meyer" in body
    assert "Also in the chat, without confirming presence (1): Anna Schmidt" in body


# ---------------------------------------------------------------------------- bad input


def test_second_start_and_end_without_meeting_are_refused_and_change_nothing(
    dialog: Dialog,
) -> None:
    assert "Gerade läuft keine Sitzung. Beginnen mit `!sitzung start`." in dialog.text(
        CHAIR, "!sitzung ende"
    )
    dialog.say(CHAIR, "!sitzung start")
    before = stored(dialog.database)
    refused = dialog.text(CHAIR, "!sitzung start Zweite")
    assert "Sitzung #1 läuft schon (seit Mo., 9. März 2026, 10:15 Uhr)" in refused
    assert "`!sitzung ende`" in refused
    assert stored(dialog.database) == before


def test_members_may_not_start_end_or_plan_meetings(dialog: Dialog) -> None:
    for command in ("!sitzung start", "!sitzung plan morgen 10 Uhr", "!sitzung ende"):
        assert "dürfen nur der Vorsitz und die Koordination" in dialog.text(ANNA, command)
    assert stored(dialog.database) == (0, 0, 0, 0)
    # What they may: look.
    assert "Es ist keine Sitzung geplant" in dialog.text(ANNA, "!sitzung")
    assert "noch keine Sitzung" in dialog.text(ANNA, "!sitzung liste")


def test_minutes_of_a_meeting_that_does_not_exist_or_still_runs(dialog: Dialog) -> None:
    assert "In diesem Raum gab es noch keine Sitzung." in dialog.text(ANNA, "!sitzung protokoll")
    dialog.say(CHAIR, "!sitzung start")
    assert (
        "In diesem Raum gibt es keine Sitzung #99 (bisher eine Sitzung). "
        "Alle zeigt `!sitzung liste`." in dialog.text(ANNA, "!sitzung protokoll 99")
    )
    assert "Sitzung #1 läuft noch" in dialog.text(ANNA, "!sitzung protokoll 1")
    assert "keine Nummer einer Sitzung" in dialog.text(ANNA, "!sitzung protokoll gestern")
    assert "Sie können wählen: `start`, `ende`" in dialog.text(ANNA, "!sitzung anfangen")


def test_a_title_too_long_starts_no_meeting(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, "!sitzung start " + "x" * 250)
    assert "Der Titel ist zu lang (250 Zeichen, höchstens 200)" in answer
    assert stored(dialog.database) == (0, 0, 0, 0)


# -------------------------------------------------------------------------------- plan


def test_chair_plans_a_series_and_everyone_sees_the_next_three(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, "!sitzung plan jeden zweiten Dienstag im Monat 16 Uhr")
    assert (
        "Sitzungen: jeden zweiten Dienstag im Monat um 16:00 Uhr. Nächste Sitzung: Di., 10. März"
        in (answer)
    )
    shown = dialog.text(ANNA, "!sitzung")
    assert shown == (
        "🗓️ Nächste Sitzungen\n"
        "• Di., 10. März 2026, 16:00 Uhr\n"
        "• Di., 14. April 2026, 16:00 Uhr\n"
        "• Di., 12. Mai 2026, 16:00 Uhr"
    )


def test_english_chair_plans_a_series_in_english(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    answer = room.text(CHAIR, "!meeting plan every second tuesday of the month 4pm")
    assert "every second Tuesday of the month at 16:00. Next meeting: Tue, 10 March 2026" in answer
    assert "Tue, 14 April 2026, 16:00" in room.text(ANNA, "!meeting")


def test_a_single_meeting_replaces_the_series_and_can_be_deleted(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan jeden ersten Montag im Monat 10 Uhr")
    answer = dialog.text(CHAIR, "!sitzung plan am 14.1. 10 Uhr")
    assert "Nächste Sitzung: Do., 14. Januar 2027, 10:00 Uhr" in answer
    assert dialog.text(ANNA, "!sitzung").endswith("• Do., 14. Januar 2027, 10:00 Uhr")
    assert "Sitzungsplan ist gelöscht" in dialog.text(CHAIR, "!sitzung plan löschen")
    assert stored(dialog.database)[2] == 0
    assert "keine Sitzung geplant" in dialog.text(CHAIR, "!sitzung plan loeschen")


def test_a_plan_in_the_past_or_not_understood_changes_nothing(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan am 14.1. 10 Uhr")
    past = dialog.text(CHAIR, "!sitzung plan heute 8 Uhr")
    assert "Mo., 9. März 2026, 08:00 Uhr liegt in der Vergangenheit. Ich habe nichts geändert" in (
        past
    )
    unclear = dialog.text(CHAIR, "!sitzung plan irgendwann im Frühling")
    assert "„irgendwann im Frühling“ verstehe ich nicht als Sitzungstermin" in unclear
    assert "Wann ist die nächste Sitzung?" in dialog.text(CHAIR, "!sitzung plan")
    assert "Do., 14. Januar 2027" in dialog.text(ANNA, "!sitzung")


def test_a_meeting_today_without_time_is_ahead_all_day(dialog: Dialog) -> None:
    assert "Nächste Sitzung: Mo., 9. März 2026." in dialog.text(CHAIR, "!sitzung plan heute")


# ---------------------------------------------------------------- bis zur nächsten Sitzung


def test_agreement_due_by_the_next_meeting_gets_the_meeting_day(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan jeden zweiten Dienstag im Monat 16 Uhr")
    later(dialog, 8 * 60)  # Monday 18:15: the next meeting is tomorrow
    reply = dialog.text(ANNA, "!verabredung Bericht vorbereiten @ben bis zur nächsten Sitzung")
    assert "Verabredung #1 festgehalten: Bericht vorbereiten\n" in reply
    assert "Frist: Di., 10. März 2026" in reply
    dialog.now = dt.datetime(2026, 3, 10, 17, 0, tzinfo=dialog.now.tzinfo)  # after it
    moved = dialog.text(ANNA, "!frist 1 bis zur naechsten Sitzung")
    assert "neue Frist: Di., 14. April 2026" in moved


def test_english_agreement_by_the_next_meeting(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    room.say(CHAIR, "!meeting plan 20.3. 10am")
    reply = room.text(ANNA, "!agree Draft the letter by the next meeting")
    assert "Draft the letter\n" in reply
    assert "Fri, 20 March 2026" in reply


def test_by_the_next_meeting_without_a_plan_says_how_to_plan_and_stores_nothing(
    dialog: Dialog,
) -> None:
    answer = dialog.text(ANNA, "!verabredung Bericht vorbereiten bis zur nächsten Sitzung")
    assert "keine nächste Sitzung geplant" in answer
    assert "`!sitzung plan 14.1. 10 Uhr`" in answer
    assert stored(dialog.database) == (0, 0, 0, 0)


def test_a_member_who_only_listens_and_waves_at_the_roll_call_is_listed_as_present(
    dialog: Dialog,
) -> None:
    [started] = dialog.say(CHAIR, "!sitzung start")
    assert "Bitte bestätigen Sie Ihre Anwesenheit: ✅ auf diese Nachricht oder `!anwesend`" in (
        started.body
    )
    dialog.react(CARLA, "👋", started.event_id)
    later(dialog, 30)
    [minutes] = dialog.say(CHAIR, "!sitzung ende")
    assert "Anwesend (2): Carla Weber, Vorsitz Meyer" in minutes.body


def test_a_plan_too_far_ahead_names_the_limit_and_changes_nothing(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, "!sitzung plan 1.1.2040 10 Uhr")
    assert "liegt zu weit in der Zukunft (höchstens 10 Jahre). Ich habe nichts geändert" in answer
    assert "Es ist keine Sitzung geplant" in dialog.text(ANNA, "!sitzung")
