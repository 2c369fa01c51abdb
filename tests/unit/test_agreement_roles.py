"""`!rolle`: the chair (power level or `!rolle`) and the coordination (config) of a room."""

from __future__ import annotations

import pytest

from commands.core.context import Role
from commands.core.room import effective_role
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, ROOM, Dialog


def test_roles_overview_for_everyone(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!rolle")
    assert "Rollen in diesem Raum" in answer
    assert "Koordination (Bildungsbüro, für alle Gremien): Bildungsbüro" in answer
    assert "Vorsitz: Vorsitz Meyer" in answer


def test_chair_makes_a_member_chair_who_may_then_change_any_agreement(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Raum buchen")
    assert "#1 dürfen das nur" in dialog.text(BEN, "!erledigt 1")
    [reply] = dialog.say(CHAIR, "!rolle @ben vorsitz")
    assert "Ben Okafor hat in diesem Raum jetzt die Rolle Vorsitz." in reply.body
    assert reply.mentions == (BEN,)
    assert "✅ #1 ist erledigt" in dialog.text(BEN, "!erledigt 1")
    assert "Vorsitz: Ben Okafor, Vorsitz Meyer" in dialog.text(ANNA, "!rolle")
    assert "Language is now English" in dialog.text(BEN, "!einstellungen sprache en")


def test_chair_set_by_command_counts_in_effective_role(dialog: Dialog) -> None:
    dialog.say(COORDINATOR, "!rolle @carla vorsitz")
    with dialog.database.session() as s:
        assert effective_role(s, ROOM, CARLA, power_level=0, coordinators=()) is Role.CHAIR
        assert effective_role(s, "!other:x", CARLA, power_level=0, coordinators=()) is Role.MEMBER
        assert effective_role(s, ROOM, BEN, power_level=0, coordinators=()) is Role.MEMBER


def test_member_may_not_give_roles(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!rolle @anna vorsitz")
    assert "Rollen vergeben dürfen nur der Vorsitz und die Koordination (Bildungsbüro)." in answer
    assert "Vorsitz: Vorsitz Meyer\n" in dialog.text(ANNA, "!rolle")


def test_coordination_cannot_be_given_by_chat(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, "!rolle @ben koordination")
    assert "wird nicht im Chat vergeben" in answer
    assert "an das Bildungsbüro oder an die IT" in answer  # someone to contact
    assert "Eintrag" not in answer
    assert "Konfiguration" not in answer


def test_chair_back_to_member(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!rolle @ben vorsitz")
    assert "hat in diesem Raum jetzt die Rolle Mitglied" in dialog.text(
        CHAIR, "!rolle @ben mitglied"
    )
    assert "Rollen vergeben dürfen nur" in dialog.text(BEN, "!rolle @anna vorsitz")
    assert "hat in diesem Raum schon die Rolle Mitglied" in dialog.text(
        CHAIR, "!rolle @ben mitglied"
    )


def test_chair_by_power_level_stays_chair_and_is_told_why(dialog: Dialog) -> None:
    answer = dialog.text(COORDINATOR, "!rolle @vorsitz mitglied")
    assert (
        "Vorsitz Meyer bleibt trotzdem Vorsitz, weil Vorsitz Meyer in Element Moderations-"
        in answer
    )
    assert "Berechtigungsstufe" not in answer


def test_giving_the_same_role_twice_says_so(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!rolle @ben vorsitz")
    assert "hat in diesem Raum schon die Rolle Vorsitz" in dialog.text(CHAIR, "!rolle @ben vorsitz")


def test_show_one_persons_role(dialog: Dialog) -> None:
    assert "Bildungsbüro: Koordination" in dialog.text(ANNA, "!rolle @buero")
    assert "Anna Schmidt: Mitglied" in dialog.text(ANNA, "!rolle @anna")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!rolle vorsitz", "Wem? Bitte genau eine Person nennen"),
        ("!rolle @ben @anna vorsitz", "genau eine Person auf einmal"),
        ("!rolle @ben kaiser", "Die Rolle „kaiser“ gibt es nicht"),
        ("!rolle @fremd vorsitz", "@fremd:example.org ist nicht in diesem Raum"),
    ],
)
def test_bad_role_commands_are_answered_and_change_nothing(
    dialog: Dialog, body: str, expected: str
) -> None:
    assert expected in dialog.text(CHAIR, body)
    assert "Vorsitz: Vorsitz Meyer\n" in dialog.text(ANNA, "!rolle")


def test_role_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!settings language en")
    assert "Ben Okafor now has the role chair" in dialog.text(CHAIR, "!role @ben chair")
    assert "isn't given in the chat" in dialog.text(CHAIR, "!role @ben coordination")
