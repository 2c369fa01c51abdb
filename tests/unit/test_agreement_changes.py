"""Following agreements up: done, reopen, assign, due, edit, cancel, note — and who may."""

from __future__ import annotations

import itertools

import pytest

from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, Dialog


def other_room(dialog: Dialog) -> Dialog:
    """A second room on the same database; its event IDs differ, as real ones do."""
    return Dialog(dialog.database, room_id="!andere:example.org", _ids=itertools.count(1000))


@pytest.fixture
def room(dialog: Dialog) -> Dialog:
    """Carla recorded #1 for Ben, due Friday 13 March; #2 is Anna's own, without a date."""
    dialog.say(CARLA, "!verabredung Entwurf an Schulamt @ben bis nächsten Freitag")
    dialog.say(ANNA, "!verabredung Raum buchen")
    return dialog


def status(dialog: Dialog, number: int) -> str:
    shown = dialog.text(ANNA, f"!zeige {number}")
    return next(line for line in shown.splitlines() if line.startswith("Status: "))


# ------------------------------------------------------------------------------ done


def test_owner_marks_agreement_done_with_a_note(room: Dialog) -> None:
    answer = room.text(BEN, "!erledigt 1 an Schulamt geschickt")
    assert "✅ #1 ist erledigt: Entwurf an Schulamt" in answer
    assert "Notiz: an Schulamt geschickt" in answer
    assert status(room, 1) == "Status: erledigt (seit Mo., 9. März 2026)"
    assert "als erledigt markiert – „an Schulamt geschickt“" in room.text(ANNA, "!zeige 1")


def test_member_who_neither_owns_nor_recorded_it_may_not_close_it(room: Dialog) -> None:
    answer = room.text(ANNA, "!erledigt 1")
    assert "nur die Verantwortlichen (Ben Okafor)" in answer
    assert "Carla Weber (hat sie festgehalten)" in answer
    assert "der Vorsitz und die Koordination" in answer
    assert status(room, 1) == "Status: offen"


@pytest.mark.parametrize("who", [CARLA, CHAIR, COORDINATOR])
def test_recorder_chair_and_coordination_may_close_any(room: Dialog, who: str) -> None:
    assert "ist erledigt" in room.text(who, "!erledigt 1")


def test_done_twice_says_since_when(room: Dialog) -> None:
    room.say(BEN, "!erledigt 1")
    assert "#1 ist schon erledigt (seit Mo., 9. März 2026)" in room.text(BEN, "!erledigt 1")
    assert room.text(ANNA, "!zeige 1").count("als erledigt markiert") == 1


def test_cancelled_agreement_must_be_reopened_before_it_is_done(room: Dialog) -> None:
    room.say(BEN, "!verwerfen 1")
    assert "#1 ist verworfen. `!wieder 1` öffnet sie wieder." in room.text(BEN, "!erledigt 1")


# ------------------------------------------------------------------------------ reopen


def test_owner_reopens_a_done_agreement(room: Dialog) -> None:
    room.say(BEN, "!erledigt 1")
    answer = room.text(BEN, "!wieder 1")
    assert "#1 ist wieder offen: Entwurf an Schulamt" in answer
    assert "Frist: Fr., 13. März 2026" in answer
    assert status(room, 1) == "Status: offen"


def test_reopening_an_open_agreement_says_so(room: Dialog) -> None:
    assert "#1 ist schon offen." in room.text(BEN, "!wieder 1")


def test_stranger_to_the_agreement_may_not_reopen_it(room: Dialog) -> None:
    room.say(BEN, "!erledigt 1")
    assert "Bei #1 dürfen das nur" in room.text(ANNA, "!wieder 1")
    assert status(room, 1).startswith("Status: erledigt")


# ------------------------------------------------------------------------------ assign


def test_owner_hands_over_to_two_people_who_are_notified(room: Dialog) -> None:
    [reply] = room.say(BEN, "!zuweisen 1 @anna und @carla")
    assert "#1 – verantwortlich sind jetzt: Anna Schmidt, Carla Weber" in reply.body
    assert reply.mentions == (ANNA, CARLA)
    shown = room.text(ANNA, "!zeige 1")
    assert "Verantwortlich: Anna Schmidt, Carla Weber" in shown
    assert "Verantwortliche Ben Okafor → Anna Schmidt, Carla Weber" in shown


def test_assign_with_element_pills(room: Dialog) -> None:
    html = '!zuweisen 1 <a href="https://matrix.to/#/@anna:example.org">Anna Schmidt</a>'
    [reply] = room.say(CHAIR, "!zuweisen 1 Anna Schmidt", html=html, mentions=(ANNA,))
    assert reply.mentions == (ANNA,)


def test_assign_without_anybody_asks_whom(room: Dialog) -> None:
    answer = room.text(BEN, "!zuweisen 1")
    assert "Wem soll die Verabredung gehören?" in answer
    assert "`!zuweisen 3 @Anna @Ben`" in answer


def test_assign_to_someone_outside_the_room_is_refused(room: Dialog) -> None:
    assert "@fremd:example.org ist nicht in diesem Raum" in room.text(BEN, "!zuweisen 1 @fremd")
    assert "Verantwortlich: Ben Okafor" in room.text(ANNA, "!zeige 1")


def test_assign_to_the_same_owners_changes_nothing(room: Dialog) -> None:
    assert "ändert sich nichts" in room.text(BEN, "!zuweisen 1 @ben")


def test_member_may_not_take_over_someone_elses_agreement(room: Dialog) -> None:
    assert "Bei #1 dürfen das nur" in room.text(ANNA, "!zuweisen 1 @anna")


# ------------------------------------------------------------------------------ due


def test_owner_moves_the_due_date(room: Dialog) -> None:
    answer = room.text(BEN, "!frist 1 Freitag nächste Woche")
    assert "#1 – neue Frist: Fr., 20. März 2026 (vorher: Fr., 13. März 2026)" in answer
    assert "Frist Fr., 13. März 2026 → Fr., 20. März 2026" in room.text(ANNA, "!zeige 1")


def test_due_date_can_be_removed(room: Dialog) -> None:
    assert "neue Frist: keine" in room.text(BEN, "!frist 1 ohne")
    assert "#1 hat schon keine Frist." in room.text(BEN, "!frist 1 keine")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("1 irgendwann", "„irgendwann“ verstehe ich nicht"),
        ("1 nächsten Monat", "„nächsten Monat“ verstehe ich nicht"),
        ("1 01.01.2026", "Do., 1. Januar 2026 liegt in der Vergangenheit"),
        ("1", "Bis wann?"),
    ],
)
def test_due_date_that_does_not_resolve_is_asked_back(
    room: Dialog, args: str, expected: str
) -> None:
    assert expected in room.text(BEN, f"!frist {args}")
    assert "Frist: Fr., 13. März 2026" in room.text(ANNA, "!zeige 1")


# ------------------------------------------------------------------------------ edit


def test_owner_edits_the_text_and_the_old_one_stays_in_the_history(room: Dialog) -> None:
    answer = room.text(BEN, "!ändern 1 Entwurf an Schulamt und Jugendamt")
    assert "#1 geändert: Entwurf an Schulamt und Jugendamt" in answer
    shown = room.text(ANNA, "!zeige 1")
    assert shown.startswith("#1 Entwurf an Schulamt und Jugendamt")
    assert "Text geändert, vorher: „Entwurf an Schulamt“" in shown


def test_edit_written_with_ascii_umlaut_and_english_name(room: Dialog) -> None:
    assert "#1 geändert: A" in room.text(BEN, "!aendern 1 A")
    assert "#1 geändert: B" in room.text(BEN, "!edit 1 B")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("1", "Wie soll der neue Text lauten?"),
        ("1 Entwurf an Schulamt", "Der Text von #1 lautet schon so."),
        ("1 " + "y" * 2001, "zu lang (2001 Zeichen, höchstens 2000)"),
    ],
)
def test_bad_edit_keeps_the_text(room: Dialog, args: str, expected: str) -> None:
    assert expected in room.text(BEN, f"!ändern {args}")
    assert room.text(ANNA, "!zeige 1").startswith("#1 Entwurf an Schulamt\n")


# ------------------------------------------------------------------------------ cancel


def test_owner_cancels_with_a_reason_and_nothing_is_deleted(room: Dialog) -> None:
    answer = room.text(BEN, "!verwerfen 1 Schulamt braucht es nicht mehr")
    assert "#1 ist verworfen: Entwurf an Schulamt" in answer
    assert "Grund: Schulamt braucht es nicht mehr" in answer
    assert "#1" not in room.text(ANNA, "!liste")
    assert "#1 Entwurf an Schulamt" in room.text(ANNA, "!liste verworfen")
    assert "verworfen – „Schulamt braucht es nicht mehr“" in room.text(ANNA, "!zeige 1")
    assert "#1 ist schon verworfen." in room.text(BEN, "!verwerfen 1")
    assert "ist wieder offen" in room.text(BEN, "!wieder 1")


def test_member_may_not_cancel_someone_elses_agreement(room: Dialog) -> None:
    assert "Bei #1 dürfen das nur" in room.text(ANNA, "!verwerfen 1")
    assert status(room, 1) == "Status: offen"


# ------------------------------------------------------------------------------ note


def test_anyone_in_the_room_adds_a_note(room: Dialog) -> None:
    assert "Notiz zu #1 gespeichert: Schulamt hat zugesagt" in room.text(
        ANNA, "!notiz 1 Schulamt hat zugesagt"
    )
    assert "Anna Schmidt: Notiz – „Schulamt hat zugesagt“" in room.text(BEN, "!zeige 1")


def test_empty_note_is_asked_for(room: Dialog) -> None:
    assert "Was soll notiert werden?" in room.text(ANNA, "!notiz 1")


# ------------------------------------------------------------------------------ replies


def _confirmation_ref(room: Dialog) -> tuple[str, int]:
    [reply] = room.say(CARLA, "!verabredung Einladung schreiben @ben bis nächsten Freitag")
    assert reply.ref_kind is not None
    assert reply.ref_id is not None
    return reply.ref_kind, reply.ref_id


def test_reply_to_the_confirmation_moves_the_due_date_without_a_number(room: Dialog) -> None:
    ref = _confirmation_ref(room)
    answer = room.text(BEN, "!frist Freitag nächste Woche", ref=ref)
    assert "#3 – neue Frist: Fr., 20. März 2026" in answer


def test_reply_to_the_confirmation_marks_it_done_without_a_number(room: Dialog) -> None:
    ref = _confirmation_ref(room)
    assert "✅ #3 ist erledigt: Einladung schreiben" in room.text(BEN, "!erledigt", ref=ref)
    assert "✅ #1 ist erledigt" in room.text(BEN, "!erledigt 1", ref=ref)  # a number wins


def test_reply_with_next_week_moves_the_due_date_to_that_weeks_friday(room: Dialog) -> None:
    ref = _confirmation_ref(room)
    answer = room.text(BEN, "!frist nächste Woche", ref=ref)
    assert "neue Frist: Fr., 20. März 2026" in answer


def test_reply_to_the_confirmation_acts_on_it_for_every_change_command(room: Dialog) -> None:
    ref = _confirmation_ref(room)
    assert "#3 – verantwortlich sind jetzt: Anna Schmidt" in room.text(
        BEN, "!zuweisen @anna", ref=ref
    )
    assert "#3 geändert: Einladungen" in room.text(ANNA, "!ändern Einladungen", ref=ref)
    assert "Notiz zu #3" in room.text(CARLA, "!notiz verschickt", ref=ref)
    assert room.text(ANNA, "!zeige", ref=ref).startswith("#3 Einladungen")
    assert "#3 ist verworfen" in room.text(ANNA, "!verwerfen", ref=ref)
    assert "#3 ist wieder offen" in room.text(ANNA, "!wieder", ref=ref)


def test_reply_to_a_bot_message_about_another_rooms_agreement_is_refused(room: Dialog) -> None:
    other = other_room(room)
    [reply] = other.say(CARLA, "!verabredung Fremdes @ben")
    assert reply.ref_id is not None
    answer = room.text(BEN, "!erledigt", ref=("agreement", reply.ref_id))
    assert "gehört zu einem anderen Gremium" in answer
    assert "Status: offen" in other.text(BEN, "!zeige 1")


# --------------------------------------------------------------------- number errors


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!erledigt abc", "„abc“ ist keine Nummer einer Verabredung."),
        ("!erledigt 99", "In diesem Raum gibt es keine Verabredung #99."),
        ("!erledigt 0", "keine Verabredung #0"),
        ("!erledigt 99999999999999", "keine Verabredung #99999999999999"),
        ("!erledigt -1", "„-1“ ist keine Nummer"),
        (
            "!erledigt " + "9" * 5000,
            "keine Verabredung #" + "9" * 19 + "…",
        ),
        ("!erledigt 007", "In diesem Raum gibt es keine Verabredung #7."),
        ("!erledigt ²", "„²“ ist keine Nummer"),
        ("!erledigt", "Welche Verabredung?"),
        ("!zeige abc", "„abc“ ist keine Nummer"),
        ("!frist x Freitag", "„x“ ist keine Nummer"),
        ("!notiz 42 Hallo", "keine Verabredung #42"),
    ],
)
def test_number_argument_errors_get_clear_answers(room: Dialog, body: str, expected: str) -> None:
    answer = room.text(BEN, body)
    assert expected in answer
    assert "Traceback" not in answer
    assert "Fehlercode" not in answer


def test_number_may_be_written_with_a_hash(room: Dialog) -> None:
    assert "✅ #1 ist erledigt" in room.text(BEN, "!erledigt #1")


def test_agreement_of_another_room_is_not_reachable_by_its_number(room: Dialog) -> None:
    other = other_room(room)
    for i in range(3):
        other.say(CARLA, f"!verabredung Fremdes {i}")
    assert "In diesem Raum gibt es keine Verabredung #3." in room.text(CHAIR, "!erledigt 3")
    assert "Status: offen" in other.text(CARLA, "!zeige 3")


# --------------------------------------------------------------------- English


def test_english_aliases_do_the_same(room: Dialog) -> None:
    room.say(CHAIR, "!settings language en")
    assert "✅ #1 is done: Entwurf an Schulamt" in room.text(BEN, "!done 1 sent")
    assert "#1 is open again" in room.text(BEN, "!reopen 1")
    assert "#1 – owners now: Anna Schmidt" in room.text(BEN, "!assign 1 @anna")
    assert "#1 – new due date: Fri, 20 March 2026" in room.text(ANNA, "!due 1 friday next week")
    assert "#1 changed: Draft" in room.text(ANNA, "!edit 1 Draft")
    assert "Note on #1 saved: ok" in room.text(BEN, "!note 1 ok")
    assert "#1 is cancelled: Draft" in room.text(ANNA, "!cancel 1 obsolete")
    shown = room.text(ANNA, "!show 1")
    assert "Status: cancelled (since Mon, 9 March 2026)" in shown
    assert "owners Ben Okafor → Anna Schmidt" in shown
    assert "For #1 only its owners" in room.text(BEN, "!reopen 1")
