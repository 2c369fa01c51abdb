"""Pulse and general polls: started as native polls, answered from any client, closed by
deadline or command, results that never break down fewer than three answers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from bot.runtime.scheduler import run_timers
from commands.core.timers import TimerEnv
from storage.models import Poll, PollVote
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, STRANGER, Dialog, Sent

POLL_START = "org.matrix.msc3381.poll.start"
POLL_END = "org.matrix.msc3381.poll.end"


def poll_block(sent: Sent) -> dict[str, object]:
    block = sent.content[POLL_START]
    assert isinstance(block, dict)
    return block


def answer_ids(sent: Sent) -> list[str]:
    answers = poll_block(sent)["answers"]
    assert isinstance(answers, list)
    return [a["id"] for a in answers]


def started(dialog: Dialog, sender: str, command: str) -> tuple[Sent, Sent]:
    """The poll start event and the confirmation a command produced."""
    sent = dialog.say(sender, command)
    polls = [s for s in sent if s.event_type == POLL_START]
    replies = [s for s in sent if s.event_type == "m.room.message"]
    assert len(polls) == 1, [s.body for s in sent]
    assert len(replies) == 1, [s.body for s in sent]
    return polls[0], replies[0]


def close_due(dialog: Dialog, at: dt.datetime) -> list[Sent]:
    """What the scheduler's poll timer sends when it wakes up at `at`."""
    before = dialog._last_row()
    with dialog.database.session() as s:
        run_timers(s, at, TimerEnv(), dialog.registry.timers)
        s.commit()
    return dialog.sent_since(before)


# ------------------------------------------------------------------------------ pulse


def test_pulse_is_a_native_undisclosed_poll_with_the_default_question(dialog: Dialog) -> None:
    poll, confirmation = started(dialog, CHAIR, "!puls")
    block = poll_block(poll)
    assert block["kind"] == "org.matrix.msc3381.poll.undisclosed"
    assert block["max_selections"] == 1
    question = block["question"]
    assert isinstance(question, dict)
    assert "Wie zufrieden sind Sie mit der heutigen Sitzung?" in json.dumps(
        question, ensure_ascii=False
    )
    assert answer_ids(poll) == ["1", "2", "3", "4", "5"]
    # Clients without polls show the fallback, with the way to vote by text.
    assert "!stimme 1 1" in poll.body
    assert "Puls #1 läuft bis Di., 10. März 2026, 10:15 Uhr" in confirmation.body
    assert "Diese Abstimmung ist nicht anonym" in confirmation.body  # stated honestly
    assert "Ereignis" not in confirmation.body  # in words a member understands


def test_help_on_the_pulse_says_room_votes_are_not_anonymous(dialog: Dialog) -> None:
    shown = dialog.text(ANNA, "!hilfe puls")
    assert "Im Raum ist ein Puls nicht anonym" in shown
    assert "!puls anonym" in shown


def test_three_members_answer_one_changes_and_the_end_shows_counts_and_mean(
    dialog: Dialog,
) -> None:
    poll, _ = started(dialog, CHAIR, "!puls Wie lief die Sitzung?")
    dialog.answer_poll(ANNA, poll.event_id, ("4",))
    dialog.answer_poll(BEN, poll.event_id, ("2",))
    dialog.answer_poll(CARLA, poll.event_id, ("5",))
    dialog.answer_poll(BEN, poll.event_id, ("3",))  # Ben changes his mind

    running = dialog.text(ANNA, "!ergebnis 1")
    assert "bisher 3 Stimmen" in running
    assert "4 – zufrieden" not in running  # undisclosed while it runs

    ended = dialog.say(ANNA, "!schließen 1")  # Anna did not start it
    assert "beenden dürfen nur die Person, die sie gestartet hat" in ended[0].body

    [end] = dialog.say(CHAIR, "!schließen 1")
    assert end.event_type == POLL_END
    relation = end.content["m.relates_to"]
    assert relation == {"rel_type": "m.reference", "event_id": poll.event_id}
    assert "3 – teils, teils: 1 (33 %)" in end.body
    assert "4 – zufrieden: 1 (33 %)" in end.body
    assert "5 – sehr zufrieden: 1 (33 %)" in end.body
    assert "2 – wenig zufrieden: 0 (0 %)" in end.body
    assert "3 Stimmen" in end.body
    assert "Mittelwert: 4,0 von 5" in end.body
    assert "Mittelwert: 4,0 von 5" in dialog.text(BEN, "!ergebnis 1")


def test_answers_after_the_end_unknown_ids_broken_events_and_strangers_do_not_count(
    dialog: Dialog,
) -> None:
    poll, _ = started(dialog, CHAIR, "!puls")
    assert dialog.answer_poll(ANNA, poll.event_id, ("7",)) == []  # no such answer
    assert dialog.answer_poll(ANNA, poll.event_id, None) == []  # malformed
    assert dialog.answer_poll(STRANGER, poll.event_id, ("5",)) == []  # not in the room
    dialog.answer_poll(BEN, poll.event_id, ("4",))
    dialog.say(CHAIR, "!schließen 1")
    dialog.answer_poll(CARLA, poll.event_id, ("1",))  # too late
    assert "1 Stimme –" in dialog.text(ANNA, "!ergebnis 1")  # one vote, in the singular


def test_fewer_than_three_answers_show_the_count_only(dialog: Dialog) -> None:
    poll, _ = started(dialog, CHAIR, "!puls")
    dialog.answer_poll(ANNA, poll.event_id, ("1",))
    dialog.answer_poll(BEN, poll.event_id, ("5",))
    [end] = dialog.say(CHAIR, "!schließen")
    assert "2 Stimmen – die Verteilung zeige ich erst ab 3 Stimmen" in end.body
    assert "sehr zufrieden" not in end.body
    assert "Mittelwert" not in end.body


def test_a_pulse_closes_by_itself_at_its_deadline_once(dialog: Dialog) -> None:
    poll, confirmation = started(dialog, CHAIR, "!puls bis morgen 12 Uhr")
    assert "bis Di., 10. März 2026, 12:00 Uhr" in confirmation.body
    for who, value in ((ANNA, "5"), (BEN, "4"), (CARLA, "4")):
        dialog.answer_poll(who, poll.event_id, (value,))
    assert close_due(dialog, dialog.now + dt.timedelta(hours=25)) == []  # not yet: 12:00
    deadline = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dialog.now.tzinfo)
    [end] = close_due(dialog, deadline)
    assert end.event_type == POLL_END
    assert end.content["m.relates_to"]["event_id"] == poll.event_id
    assert "Mittelwert: 4,3 von 5" in end.body
    assert close_due(dialog, deadline + dt.timedelta(minutes=5)) == []  # a restart: nothing twice
    assert "ist schon beendet" in dialog.text(CHAIR, "!schließen 1")


# ------------------------------------------------------------------------------ general


def test_a_general_poll_is_disclosed_and_takes_votes_by_text_command(dialog: Dialog) -> None:
    poll, confirmation = started(
        dialog, ANNA, "!umfrage Welcher Termin passt? | Montag 14 Uhr | Dienstag | Mittwoch"
    )
    assert poll_block(poll)["kind"] == "org.matrix.msc3381.poll.disclosed"
    assert "Umfrage #1 läuft bis Do., 12. März 2026, 10:15 Uhr" in confirmation.body
    assert "gezählt: Dienstag" in dialog.text(BEN, "!stimme 1 2")
    assert "geändert: Mittwoch" in dialog.text(BEN, "!stimme 1 mittwoch")
    dialog.answer_poll(CARLA, poll.event_id, (answer_ids(poll)[2],))
    dialog.answer_poll(ANNA, poll.event_id, (answer_ids(poll)[0],))
    shown = dialog.text(CHAIR, "!ergebnis")
    assert "Mittwoch: 2 (67 %)" in shown
    assert "Montag 14 Uhr: 1 (33 %)" in shown
    assert "(läuft noch)" in shown


def test_a_multiple_choice_poll_counts_each_chosen_answer(dialog: Dialog) -> None:
    poll, _ = started(dialog, ANNA, "!umfrage mehrfach Welche Themen? | Kita | Schule | Jugend")
    assert poll_block(poll)["max_selections"] == 3
    ids = answer_ids(poll)
    dialog.answer_poll(ANNA, poll.event_id, (ids[0], ids[1]))
    dialog.answer_poll(BEN, poll.event_id, (ids[1],))
    assert "gezählt: Kita, Jugend" in dialog.text(CARLA, "!stimme 1 1, 3")
    [end] = dialog.say(ANNA, "!schließen 1")
    assert "Kita: 2 (67 %)" in end.body
    assert "Schule: 2 (67 %)" in end.body
    assert "Jugend: 1 (33 %)" in end.body


def test_on_a_phone_each_option_may_stand_on_its_own_line(dialog: Dialog) -> None:
    """No "|" at hand: one line for the question, one for each option, one for the end."""
    poll, confirmation = started(
        dialog, ANNA, "!umfrage mehrfach\nWelcher Termin passt?\nMontag\nDienstag\nbis Freitag"
    )
    assert poll_block(poll)["max_selections"] == 2
    assert "1. Montag\n2. Dienstag" in poll.body
    assert "Umfrage #1 läuft bis Fr., 13. März 2026, 23:59 Uhr: Welcher Termin passt?" in (
        confirmation.body
    )
    # With a "|", a line break stays part of the text it is in.
    poll, _ = started(dialog, ANNA, "!umfrage Welcher Termin\npasst? | Mo | Di")
    assert poll.body.startswith("Welcher Termin passt?\n1. Mo\n2. Di")


def test_an_english_room_gets_the_poll_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache englisch")
    poll, confirmation = started(dialog, CHAIR, "!pulse")
    assert "How satisfied are you with today's meeting?" in poll.body
    assert "!vote 1 1" in poll.body
    assert "Pulse #1 is open until" in confirmation.body


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!umfrage Nur eine Antwort? | Ja", "mindestens zwei Antwortmöglichkeiten"),
        ("!umfrage | A | B", "Wie lautet die Frage?"),
        (
            "!umfrage Frage? | " + " | ".join(f"A{i}" for i in range(21)),
            "höchstens 20 Antwortmöglichkeiten",
        ),
        ("!umfrage Frage? | Ja | ja", "Zwei Antwortmöglichkeiten lauten gleich"),
        ("!umfrage Frage? | Ja | Nein | bis 01.03.2026", "in der Vergangenheit"),
        ("!umfrage " + "x" * 501 + " | Ja | Nein", "Die Frage ist zu lang"),
        ("!puls bis zum Sankt-Nimmerleins-Tag", "verstehe ich nicht"),
        ("!stimme 4 1", "keine Umfrage #4"),
        ("!stimme", "noch keine Umfrage"),
        ("!ergebnis 9", "keine Umfrage #9"),
        ("!schließen 9x", "keine Nummer einer Umfrage"),
    ],
)
def test_bad_poll_commands_are_answered_and_store_nothing(
    dialog: Dialog, command: str, expected: str
) -> None:
    assert expected in dialog.text(ANNA, command)
    with dialog.database.session() as s:
        assert s.exec(select(Poll)).all() == []


def test_votes_out_of_range_or_on_a_closed_poll_are_refused(dialog: Dialog) -> None:
    dialog.say(ANNA, "!umfrage Termin? | Mo | Di")
    assert "Bitte nennen Sie eine Nummer von 1 bis 2" in dialog.text(BEN, "!stimme 1 3")
    assert "nur eine Antwortmöglichkeit wählbar" in dialog.text(BEN, "!stimme 1 1,2")
    dialog.say(COORDINATOR, "!schließen 1")  # the coordination may close any poll
    assert "ist beendet; Stimmen zählen nicht mehr" in dialog.text(BEN, "!stimme 1 1")
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []


# ------------------------------------------------------------------------------ anonymous


def test_anonymous_pulse_asks_each_member_by_direct_message_and_posts_totals_only(
    dialog: Dialog,
) -> None:
    sent = dialog.say(CHAIR, "!puls anonym")
    direct = [s for s in sent if s.to_user is not None]
    assert sorted(s.to_user for s in direct if s.to_user) == sorted(dialog.members)
    assert all(s.event_type == POLL_START for s in direct)
    [confirmation] = [s for s in sent if s.to_user is None]
    assert "an 5 Mitglieder" not in confirmation.body
    assert "Ich habe 5 Mitgliedern die Frage per Direktnachricht geschickt" in confirmation.body

    to = {s.to_user: s for s in direct}
    dm = dialog.dm_room(ANNA)
    dialog.answer_poll(ANNA, to[ANNA].event_id, ("5",), room_id=dm)
    dialog.answer_poll(BEN, to[BEN].event_id, ("3",), room_id=dialog.dm_room(BEN))
    dialog.answer_poll(CARLA, to[CARLA].event_id, ("4",), room_id=dialog.dm_room(CARLA))
    # Ben answering in Anna's room does not count, nor does voting in the room itself.
    dialog.answer_poll(BEN, to[ANNA].event_id, ("1",), room_id=dm)
    assert "Bitte antworten Sie in meiner Direktnachricht" in dialog.text(BEN, "!stimme 1 1")

    ended = dialog.say(CHAIR, "!schließen 1")
    ends = [s for s in ended if s.event_type == POLL_END]
    assert sorted(s.to_user for s in ends if s.to_user) == sorted(dialog.members)
    [totals] = [s for s in ended if s.event_type == "m.room.message"]
    assert totals.room_id == dialog.room_id
    assert "3 Stimmen" in totals.body
    assert "Mittelwert: 4,0 von 5" in totals.body


def test_no_row_holds_a_user_id_beside_an_answer(dialog: Dialog) -> None:
    poll, _ = started(dialog, CHAIR, "!puls")
    for who, value in ((ANNA, "5"), (BEN, "4"), (CARLA, "1")):
        dialog.answer_poll(who, poll.event_id, (value,))
    dialog.say(BEN, "!stimme 1 2")
    with dialog.database.session() as s:
        votes = s.exec(select(PollVote)).all()
    assert len(votes) == 3
    for vote in votes:
        row = json.dumps(vote.model_dump(), default=str)
        assert "@" not in row
        assert "example.org" not in row
