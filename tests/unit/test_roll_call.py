"""The roll call and quorum of a running meeting: presence confirmed by a reaction on the
start message or `!anwesend`, the chair entering who sits in the room and who is excused,
`!beschlussfähig` against the rules, and minutes that list present, excused and absent.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin. The rules name four voting
members (Anna, Ben, Carla, the chair); the coordinating office is in the room but does
not vote.
"""

from __future__ import annotations

import datetime as dt

from commands.core.defaults import Defaults
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, Dialog

VOTING = (ANNA, BEN, CARLA, CHAIR)


def name_the_voting_members(dialog: Dialog) -> None:
    dialog.say(
        CHAIR, "!geschäftsordnung stimmberechtigt @anna @ben @carla @vorsitz", mentions=VOTING
    )


def later(dialog: Dialog, minutes: int) -> None:
    dialog.now += dt.timedelta(minutes=minutes)


def test_presence_by_reaction_and_by_command_makes_the_meeting_quorate(dialog: Dialog) -> None:
    name_the_voting_members(dialog)
    [started] = dialog.say(CHAIR, "!sitzung start")
    assert "Bitte bestätigen Sie Ihre Anwesenheit: ✅ auf diese Nachricht oder `!anwesend`" in (
        started.body
    )
    # Anna confirms with ✅ on the start message: quietly, no answer in the chat.
    assert dialog.react(ANNA, "✅", started.event_id) == []
    # The office's ✅ notes its presence, but it does not vote.
    dialog.react(COORDINATOR, "✅", started.event_id)
    quorum = dialog.text(CARLA, "!beschlussfähig")
    assert quorum.startswith(
        "2 von 4 stimmberechtigten Mitgliedern anwesend – nicht beschlussfähig "
        "(Geschäftsordnung: mehr als die Hälfte der stimmberechtigten Mitglieder, "
        "also mindestens 3)"
    )
    assert "Anwesend (3): Anna Schmidt, Bildungsbüro, Vorsitz Meyer" in quorum
    assert "Noch keine Rückmeldung (2): Ben Okafor, Carla Weber" in quorum
    assert "✅ auf meine Nachricht zum Sitzungsbeginn oder `!anwesend`" in quorum

    answer = dialog.text(BEN, "!anwesend")
    assert answer.startswith("✅ Als anwesend eingetragen: Ben Okafor.")
    assert "3 von 4 stimmberechtigten Mitgliedern anwesend – beschlussfähig" in answer
    quorum = dialog.text(ANNA, "!beschlussfähig")
    assert quorum.startswith("3 von 4 stimmberechtigten Mitgliedern anwesend – beschlussfähig")
    assert "Noch keine Rückmeldung (1): Carla Weber" in quorum
    assert "Anwesenheit bestätigen" not in quorum


def test_at_least_half_is_met_by_two_of_four_where_more_than_half_is_not(
    dialog: Dialog,
) -> None:
    name_the_voting_members(dialog)
    dialog.say(CHAIR, "!sitzung start")
    dialog.say(ANNA, "!anwesend")
    assert dialog.text(CHAIR, "!beschlussfähig").startswith(
        "2 von 4 stimmberechtigten Mitgliedern anwesend – nicht beschlussfähig"
    )
    dialog.say(CHAIR, "!geschäftsordnung setze quorum mindestens die Hälfte")
    assert dialog.text(CHAIR, "!beschlussfähig").startswith(
        "2 von 4 stimmberechtigten Mitgliedern anwesend – beschlussfähig (Geschäftsordnung: "
        "mindestens die Hälfte der stimmberechtigten Mitglieder, also mindestens 2)"
    )
    # A second meeting on the same item may decide with at least three present.
    dialog.say(CHAIR, "!geschäftsordnung setze quorum mindestens 3")
    assert dialog.text(CHAIR, "!beschlussfähig").startswith(
        "2 von 4 stimmberechtigten Mitgliedern anwesend – nicht beschlussfähig "
        "(Geschäftsordnung: mindestens 3 stimmberechtigte Mitglieder)"
    )


def test_the_chair_enters_who_sits_in_the_room_and_who_is_excused(dialog: Dialog) -> None:
    name_the_voting_members(dialog)
    dialog.say(CHAIR, "!sitzung start")
    answer = dialog.text(CHAIR, "!anwesend @carla", mentions=(CARLA,))
    assert answer.startswith("✅ Als anwesend eingetragen: Carla Weber.")
    answer = dialog.text(CHAIR, "!entschuldigt @ben", mentions=(BEN,))
    assert answer.startswith("Als entschuldigt eingetragen: Ben Okafor.")
    # Anna excuses herself, then comes after all: a ✅ on the bot's answer to her counts
    # as on the start message (both are about the meeting).
    [excused_answer] = dialog.say(ANNA, "!entschuldigt")
    assert "Entschuldigt (2): Anna Schmidt, Ben Okafor" in dialog.text(CHAIR, "!beschlussfähig")
    dialog.react(ANNA, "✅", excused_answer.event_id)
    quorum = dialog.text(CHAIR, "!beschlussfähig")
    assert quorum.startswith("3 von 4 stimmberechtigten Mitgliedern anwesend – beschlussfähig")
    assert "Anwesend (3): Anna Schmidt, Carla Weber, Vorsitz Meyer" in quorum
    assert "Entschuldigt (1): Ben Okafor" in quorum


def test_a_member_may_answer_only_for_themselves_and_nobody_without_a_meeting(
    dialog: Dialog,
) -> None:
    name_the_voting_members(dialog)
    refused = dialog.text(ANNA, "!anwesend @ben", mentions=(BEN,))
    assert "Andere als anwesend oder entschuldigt eintragen dürfen nur der Vorsitz" in refused
    assert "Gerade läuft keine Sitzung" in dialog.text(ANNA, "!anwesend")
    assert "Gerade läuft keine Sitzung" in dialog.text(ANNA, "!beschlussfähig")
    dialog.say(CHAIR, "!sitzung start")
    refused = dialog.text(ANNA, "!entschuldigt @ben", mentions=(BEN,))
    assert "dürfen nur der Vorsitz und die Koordination" in refused
    unclear = dialog.text(ANNA, "!anwesend Ben")
    assert "„Ben“ verstehe ich nicht als Person. Bitte mit @ erwähnen" in unclear
    stranger = dialog.text(CHAIR, "!anwesend @fremd:example.org")
    assert "fremd ist weder Mitglied dieses Raums noch stimmberechtigt" in stranger
    # Nothing of it was noted: only the chair who opened the meeting is present.
    quorum = dialog.text(CHAIR, "!beschlussfähig")
    assert quorum.startswith("1 von 4 stimmberechtigten Mitgliedern anwesend")
    assert "Noch keine Rückmeldung (3): Anna Schmidt, Ben Okafor, Carla Weber" in quorum


def test_minutes_list_present_excused_absent_and_who_only_wrote(dialog: Dialog) -> None:
    name_the_voting_members(dialog)
    [started] = dialog.say(CHAIR, "!sitzung start Frühjahrssitzung")
    dialog.react(ANNA, "👋", started.event_id)
    dialog.say(CHAIR, "!entschuldigt @ben", mentions=(BEN,))
    # The office writes without confirming; Carla is not heard from at all.
    dialog.chat(COORDINATOR, "Die Unterlagen liegen im Ordner.")
    later(dialog, 60)
    [minutes] = dialog.say(CHAIR, "!sitzung ende")
    # A ✅ on the start message after the end changes no minutes.
    dialog.react(CARLA, "✅", started.event_id)
    lines = minutes.body.split("\n")
    assert lines[3:8] == [
        "Anwesend (2): Anna Schmidt, Vorsitz Meyer",
        "Entschuldigt (1): Ben Okafor",
        "Abwesend (1): Carla Weber",
        "Außerdem im Chat, ohne Bestätigung der Anwesenheit (1): Bildungsbüro",
        "Beschlussfähigkeit: 2 von 4 stimmberechtigten Mitgliedern anwesend – nicht "
        "beschlussfähig (Geschäftsordnung: mehr als die Hälfte der stimmberechtigten "
        "Mitglieder, also mindestens 3)",
    ]
    assert dialog.text(ANNA, "!sitzung protokoll 1").split("\n")[3:8] == lines[3:8]


def test_english_roll_call(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    [started] = room.say(CHAIR, "!meeting start")
    assert "Please confirm your presence: ✅ on this message or `!present`" in started.body
    answer = room.text(ANNA, "!present")
    assert answer.startswith("✅ Noted as present: Anna Schmidt.")
    room.say(BEN, "!excused")
    quorum = room.text(CARLA, "!quorum")
    # Without named voting members every member of the room votes (five here).
    assert quorum.startswith(
        "2 of 5 voting members present – not quorate (rules of procedure: more than half "
        "of the voting members, that is at least 3)"
    )
    assert "Excused (1): Ben Okafor" in quorum
    later(room, 30)
    body = room.text(CHAIR, "!meeting end")
    assert "Present (2): Anna Schmidt, Vorsitz Meyer" in body
    assert "Excused (1): Ben Okafor" in body
    assert "Absent (1): Bildungsbüro" in body
    # Carla asked for the quorum but never confirmed her presence.
    assert "Also in the chat, without confirming presence (1): Carla Weber" in body
    assert "Quorum: 2 of 5 voting members present – not quorate" in body
