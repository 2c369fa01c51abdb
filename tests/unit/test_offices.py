"""`!amt` / `!office`: members say which office they work for, the chair and the
coordination for others; the config's `offices:` map fills in for those who never did.
The leadership report names these offices instead of people.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from commands.agreements.offices import OfficesSettings, configured_offices
from commands.core.defaults import Defaults
from storage import offices as store
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, STRANGER, Dialog

CONFIG_HEAD = "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"


def configured(dialog: Dialog, offices: dict[str, str]) -> Dialog:
    """The bot started with these offices in its config."""
    dialog.defaults = Defaults(features={"offices": OfficesSettings(by_user=offices)})
    return dialog


def office_of(dialog: Dialog, user_id: str) -> str | None:
    with dialog.database.session() as s:
        return store.offices_of(s, [user_id], configured_offices(dialog.defaults)).get(user_id)


# ------------------------------------------------------------------------ one's own


def test_a_member_sets_and_sees_their_own_office(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!amt Amt 51 – Jugendamt")
    assert answer == (
        "Gespeichert: Ihr Amt ist jetzt „Amt 51 – Jugendamt“. Der Bericht an die Leitung "
        "nennt es statt Ihres Namens."
    )
    shown = dialog.text(ANNA, "!amt")
    assert shown.splitlines() == [
        "Ihr Amt: Amt 51 – Jugendamt",
        "Gesetzt von Anna Schmidt am Mo., 9. März 2026.",
    ]
    assert office_of(dialog, ANNA) == "Amt 51 – Jugendamt"


def test_without_an_office_the_answer_says_how_to_set_one(dialog: Dialog) -> None:
    assert dialog.text(BEN, "!amt") == (
        "Für Sie ist kein Amt hinterlegt. Der Bericht an die Leitung nennt Ämter statt Namen "
        "– bitte setzen, z. B. mit `!amt Jugendamt`."
    )


def test_the_same_office_again_changes_nothing(dialog: Dialog) -> None:
    dialog.say(ANNA, "!amt Jugendamt")
    assert dialog.text(ANNA, "!amt   Jugendamt ") == "Ihr Amt ist schon „Jugendamt“."


def test_a_member_removes_their_office(dialog: Dialog) -> None:
    dialog.say(ANNA, "!amt Jugendamt")
    assert dialog.text(ANNA, "!amt löschen") == "Ihr Amt ist entfernt."
    assert office_of(dialog, ANNA) is None
    assert dialog.text(ANNA, "!amt entfernen") == (
        "Für Sie ist kein Amt im Chat gesetzt; ich habe nichts entfernt."
    )


def test_english_names_and_texts(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    assert dialog.text(ANNA, "!office Youth Welfare Office") == (
        "Saved: your office is now “Youth Welfare Office”. The report to the leadership names "
        "it instead of your name."
    )
    assert dialog.text(ANNA, "!office").startswith("Your office: Youth Welfare Office\nSet by")
    assert dialog.text(ANNA, "!office clear") == "Your office has been removed."
    refused = dialog.text(ANNA, "!office @ben:example.org Finance")
    assert refused.startswith("Only the chair and the coordinating office may set or remove")
    assert office_of(dialog, BEN) is None


# --------------------------------------------------------------------------- others'


@pytest.mark.parametrize("who", [CHAIR, COORDINATOR])
def test_chair_and_coordination_set_and_remove_someone_elses_office(
    dialog: Dialog, who: str
) -> None:
    answer = dialog.text(who, "!amt @ben:example.org Amt 40 – Schulverwaltung")
    assert answer == "Gespeichert: Das Amt von Ben Okafor ist jetzt „Amt 40 – Schulverwaltung“."
    assert office_of(dialog, BEN) == "Amt 40 – Schulverwaltung"
    assert office_of(dialog, who) is None
    shown = dialog.text(ANNA, "!amt @ben:example.org")
    assert shown.startswith("Amt von Ben Okafor: Amt 40 – Schulverwaltung\nGesetzt von ")
    assert (
        dialog.text(who, "!amt @ben:example.org löschen") == "Das Amt von Ben Okafor ist entfernt."
    )
    assert office_of(dialog, BEN) is None


def test_a_member_may_not_set_someone_elses_office(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!amt @ben:example.org Kämmerei")
    assert answer == (
        "Das Amt einer anderen Person setzen oder entfernen dürfen nur der Vorsitz und die "
        "Koordination (Bildungsbüro). Ihr eigenes setzen Sie z. B. mit `!amt Jugendamt`."
    )
    dialog.say(CHAIR, "!amt @ben:example.org Jugendamt")
    assert dialog.text(ANNA, "!amt @ben:example.org löschen").startswith("Das Amt einer anderen")
    assert office_of(dialog, BEN) == "Jugendamt"


def test_any_member_may_see_someone_elses_office(dialog: Dialog) -> None:
    assert (
        dialog.text(ANNA, "!amt @carla:example.org") == "Für Carla Weber ist kein Amt hinterlegt."
    )


def test_one_person_at_a_time_and_only_members_of_the_room(dialog: Dialog) -> None:
    both = dialog.text(CHAIR, "!amt @ben:example.org @carla:example.org Jugendamt")
    assert both.startswith("Bitte höchstens eine Person auf einmal nennen")
    stranger = dialog.text(CHAIR, f"!amt {STRANGER} Jugendamt")
    assert "ist nicht in diesem Raum" in stranger
    assert office_of(dialog, BEN) is None
    assert office_of(dialog, CARLA) is None
    assert office_of(dialog, STRANGER) is None


# ------------------------------------------------------------------------- refusals


def test_an_office_is_one_line_of_words_not_too_long(dialog: Dialog) -> None:
    assert dialog.text(ANNA, "!amt Jugendamt\nAbteilung 2") == (
        "Bitte das Amt in einer Zeile schreiben, z. B. `!amt Jugendamt`. Ich habe nichts "
        "gespeichert."
    )
    assert dialog.text(ANNA, "!amt " + "A" * 201) == (
        "Das Amt ist zu lang (201 Zeichen, höchstens 200). Ich habe nichts gespeichert."
    )
    assert dialog.text(ANNA, "!amt – …") == (
        "Bitte das Amt in Worten schreiben, z. B. `!amt Jugendamt`. Ich habe nichts gespeichert."
    )
    assert office_of(dialog, ANNA) is None
    assert "Gespeichert" in dialog.text(ANNA, "!amt " + "A" * 200)


# --------------------------------------------------------------------------- config


def test_the_configs_office_counts_until_one_is_set_in_the_chat(dialog: Dialog) -> None:
    configured(dialog, {ANNA: "Amt 40 – Schulverwaltung"})
    assert dialog.text(ANNA, "!amt").splitlines() == [
        "Ihr Amt: Amt 40 – Schulverwaltung",
        "So bei der Einrichtung des Bots festgelegt. Ändern: `!amt Jugendamt`",
    ]
    saved = dialog.text(ANNA, "!amt Amt 40 – Schulverwaltung und Bildungsbüro")
    assert saved.splitlines()[1] == (
        "Das gilt statt des bei der Einrichtung des Bots festgelegten Amts "
        "„Amt 40 – Schulverwaltung“."
    )
    assert office_of(dialog, ANNA) == "Amt 40 – Schulverwaltung und Bildungsbüro"
    cleared = dialog.text(ANNA, "!amt löschen")
    assert cleared.splitlines()[1].startswith(
        "Es gilt das bei der Einrichtung des Bots festgelegte Amt „Amt 40 – Schulverwaltung“"
    )
    assert office_of(dialog, ANNA) == "Amt 40 – Schulverwaltung"


def test_the_config_maps_user_ids_to_offices(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        CONFIG_HEAD + "offices:\n  '@anna:example.org': '  Amt 40 –   Schulverwaltung '\n",
        "utf-8",
    )
    defaults = load_config(path, environ={}).build_defaults()
    assert configured_offices(defaults) == {ANNA: "Amt 40 – Schulverwaltung"}
    # Every entry commented out: no offices, no mistake.
    path.write_text(CONFIG_HEAD + "offices:\n  # '@anna:example.org': Jugendamt\n", "utf-8")
    assert configured_offices(load_config(path, environ={}).build_defaults()) == {}


@pytest.mark.parametrize(
    ("section", "mistake"),
    [
        ("offices:\n  anna: Jugendamt\n", "'anna' is no Matrix user ID"),
        ("offices:\n  '@anna:example.org': ''\n", "must have 1 to 200 characters (has 0)"),
        ("offices:\n  '@anna:example.org': '" + "x" * 201 + "'\n", "(has 201)"),
        ("offices:\n  '@anna:example.org': [Jugendamt]\n", "the office must be a text"),
        ("offices:\n  - Jugendamt\n", "expected a map of user IDs to offices"),
    ],
)
def test_config_mistakes_in_offices_are_named(tmp_path: Path, section: str, mistake: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_HEAD + section, "utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    [problem] = err.value.problems
    assert ":4: offices: " in problem
    assert mistake in problem
