"""The rules' numbers: the chair sets them in plain words (`!geschäftsordnung setze …`),
names the voting members, every member reads them in plain German or English; the config
gives them per committee in the same words. What cannot be read is named with the forms
it may take, and nothing changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from commands.core.defaults import Defaults
from commands.procedure import describe
from commands.procedure.engine import (
    Majority,
    Rules,
    Threshold,
    ThresholdKind,
    Votes,
    circulation,
    meeting_decision,
)
from commands.procedure.rules import DEFAULT_RULES, configured_rules, rules_of
from commands.procedure.settings import RulesSettings
from commands.procedure.words import Trouble, UnreadableRules, parse_rules
from storage import procedure as store
from storage.db import Database
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, ROOM, Dialog

GERMAN = (
    "quorum mehr als die Hälfte | ladungsfrist 14 tage | umlauf frist 7 tage, mindestens die "
    "Hälfte, einfache Mehrheit | protokoll einspruchsfrist 14 tage | tagesordnung anmeldung "
    "10 tage"
)
ENGLISH = (
    "quorum more than half | invitation 14 days | circulation 7 days, at least half, simple "
    "majority | minutes objection 14 days | agenda cutoff 10 days"
)
AS_SET = Rules(
    quorum=Threshold(ThresholdKind.MORE_THAN_HALF),
    invitation_days=14,
    circulation_days=7,
    circulation_participation=Threshold(ThresholdKind.AT_LEAST_HALF),
    majority=Majority.SIMPLE,
    minutes_objection_days=14,
    agenda_cutoff_days=10,
)


def rules_now(dialog: Dialog) -> Rules:
    with dialog.database.session() as s:
        return rules_of(s, dialog.room_id, configured_rules(dialog.defaults, dialog.room_id))


def stored(dialog: Dialog) -> dict[str, object] | None:
    with dialog.database.session() as s:
        return store.rules_params(s, dialog.room_id)


# ----------------------------------------------------------------------------- the words


@pytest.mark.parametrize("words", [GERMAN, ENGLISH])
def test_the_issues_example_reads_the_same_in_german_and_english(words: str) -> None:
    assert dataclasses.replace(DEFAULT_RULES, **parse_rules(words)) == AS_SET


@pytest.mark.parametrize(
    ("words", "changes"),
    [
        ("quorum mindestens 3", {"quorum": Threshold(ThresholdKind.AT_LEAST, 3)}),
        ("Quorum: at least three", {"quorum": Threshold(ThresholdKind.AT_LEAST, 3)}),
        (
            "beschlussfähigkeit mindestens die Hälfte",
            {"quorum": Threshold(ThresholdKind.AT_LEAST_HALF)},
        ),
        ("ladungsfrist 3 wochen", {"invitation_days": 21}),
        ("Ladungsfrist zwei Wochen", {"invitation_days": 14}),
        ("invitation 1 day", {"invitation_days": 1}),
        ("absolute Mehrheit", {"majority": Majority.ABSOLUTE}),
        ("Mehrheit: einfach", {"majority": Majority.SIMPLE}),
        ("Zweidrittelmehrheit", {"majority": Majority.TWO_THIRDS}),
        ("Zwei-Drittel-Mehrheit", {"majority": Majority.TWO_THIRDS}),
        ("two-thirds majority", {"majority": Majority.TWO_THIRDS}),
        ("Stichentscheid des Vorsitzes", {"chair_breaks_tie": True}),
        ("chair breaks ties", {"chair_breaks_tie": True}),
        ("kein Stichentscheid", {"chair_breaks_tie": False}),
        (
            "umlauf 10 tage, mindestens 3, Zweidrittelmehrheit, Stichentscheid des Vorsitzes",
            {
                "circulation_days": 10,
                "circulation_participation": Threshold(ThresholdKind.AT_LEAST, 3),
                "majority": Majority.TWO_THIRDS,
                "chair_breaks_tie": True,
            },
        ),
        (
            "circulation 2 weeks, more than half of the voting members",
            {
                "circulation_days": 14,
                "circulation_participation": Threshold(ThresholdKind.MORE_THAN_HALF),
            },
        ),
        (
            "einspruchsfrist 7 tage; anmeldefrist 21 tage",
            {"minutes_objection_days": 7, "agenda_cutoff_days": 21},
        ),
        ("", {}),
    ],
)
def test_each_rule_is_read_in_the_words_committees_use(
    words: str, changes: dict[str, object]
) -> None:
    assert parse_rules(words) == changes


@pytest.mark.parametrize(
    ("words", "part", "trouble"),
    [
        ("quorum halb voll", "quorum halb voll", Trouble.QUORUM),
        ("ladungsfrist bald", "ladungsfrist bald", Trouble.DAYS),
        ("ladungsfrist 0 tage", "ladungsfrist 0 tage", Trouble.DAYS_RANGE),
        ("ladungsfrist 91 tage", "ladungsfrist 91 tage", Trouble.DAYS_RANGE),
        ("umlauf 14 wochen", "umlauf 14 wochen", Trouble.DAYS_RANGE),
        ("quorum mindestens 0", "quorum mindestens 0", Trouble.COUNT_RANGE),
        ("umlauf 7 tage, blau", "umlauf 7 tage, blau", Trouble.CIRCULATION),
        ("mehrheit relativ", "mehrheit relativ", Trouble.MAJORITY),
        ("sitzungen monatlich", "sitzungen monatlich", Trouble.PART),
        ("ladungsfrist 7 tage | ladungsfrist 14 tage", "ladungsfrist 14 tage", Trouble.TWICE),
    ],
)
def test_an_unreadable_part_is_named_with_what_is_wrong(
    words: str, part: str, trouble: Trouble
) -> None:
    with pytest.raises(UnreadableRules) as err:
        parse_rules(f"quorum mehr als die Hälfte | {words}")
    assert [(p.part, p.trouble) for p in err.value.problems] == [(part, trouble)]


# ---------------------------------------------------------------------- the plain words


def test_a_verdict_says_the_rule_it_applied() -> None:
    votes = Votes(5, 1, 1)
    verdict = circulation(votes, 11, DEFAULT_RULES)
    assert describe.verdict_text("de", verdict, votes, DEFAULT_RULES).plain == (
        "7 von 11 stimmberechtigten Mitgliedern haben abgestimmt (nötig: 6); "
        "Ja 5, Nein 1, Enthaltung 1; einfache Mehrheit: angenommen"
    )
    assert describe.verdict_text("en", verdict, votes, DEFAULT_RULES).plain == (
        "7 of 11 voting members voted (needed: 6); yes 5, no 1, abstention 1; "
        "simple majority: passed"
    )


def test_verdicts_of_too_few_a_tie_an_objection_and_a_meeting_without_quorum() -> None:
    rules = dataclasses.replace(DEFAULT_RULES, chair_breaks_tie=True)
    few = Votes(3, 1, 0)
    assert describe.verdict_text("de", circulation(few, 11, rules), few, rules).plain == (
        "4 von 11 stimmberechtigten Mitgliedern haben abgestimmt (nötig: 6); "
        "Ja 3, Nein 1, Enthaltung 0; zu geringe Beteiligung: nicht zustande gekommen"
    )
    tie = Votes(3, 3, 0)
    broken = circulation(tie, 11, rules, chair_voted_yes=True)
    assert describe.verdict_text("de", broken, tie, rules).plain.endswith(
        "einfache Mehrheit: Stimmengleichheit, durch die Stimme des Vorsitzes angenommen"
    )
    failed = circulation(tie, 11, DEFAULT_RULES)
    assert describe.verdict_text("de", failed, tie, DEFAULT_RULES).plain.endswith(
        "einfache Mehrheit: abgelehnt (Stimmengleichheit)"
    )
    quiet = Votes(0, 0, 7)
    abstained = circulation(quiet, 11, DEFAULT_RULES)
    assert describe.verdict_text("en", abstained, quiet, DEFAULT_RULES).plain.endswith(
        "simple majority: rejected (no yes and no no vote)"
    )
    objected = circulation(Votes(2, 0, 0), 11, DEFAULT_RULES, objection=True)
    assert describe.verdict_text("de", objected, Votes(2, 0, 0), DEFAULT_RULES).plain == (
        "nicht zustande gekommen – Widerspruch gegen das Umlaufverfahren"
    )
    votes = Votes(5, 0, 0)
    absent = meeting_decision(votes, 5, 11, DEFAULT_RULES)
    assert describe.verdict_text("de", absent, votes, DEFAULT_RULES, meeting=True).plain == (
        "5 von 11 stimmberechtigten Mitgliedern anwesend (nötig: 6) – "
        "nicht beschlussfähig, kein Beschluss"
    )


def test_thresholds_and_majorities_in_plain_words() -> None:
    assert describe.threshold_text("de", Threshold(ThresholdKind.AT_LEAST, 3)) == (
        "mindestens 3 stimmberechtigte Mitglieder"
    )
    assert describe.threshold_text("en", Threshold(ThresholdKind.AT_LEAST_HALF)) == (
        "at least half of the voting members"
    )
    assert describe.majority_text("de", Majority.SIMPLE) == (
        "einfache Mehrheit der abgegebenen Stimmen; Enthaltungen zählen nicht"
    )


# ---------------------------------------------------------------------------- the chat


def test_the_chair_sets_the_rules_and_every_member_reads_them_in_plain_german(
    dialog: Dialog,
) -> None:
    answer = dialog.text(CHAIR, "!geschäftsordnung setze " + GERMAN)
    assert answer.startswith("Gespeichert; die übrigen Regeln bleiben, wie sie sind.")
    assert "Ladungsfrist: 14 Tage vor der Sitzung" in answer
    assert rules_now(dialog) == AS_SET
    shown = dialog.text(ANNA, "!geschäftsordnung")
    assert (
        "Regeln für Sitzungen und Beschlüsse\n"
        "Zuletzt geändert von Vorsitz Meyer, Mo., 9. März 2026:\n"
        "Beschlussfähigkeit: mehr als die Hälfte der stimmberechtigten Mitglieder anwesend\n"
        "Beschlüsse: einfache Mehrheit der abgegebenen Stimmen; Enthaltungen zählen nicht; "
        "bei Stimmengleichheit abgelehnt\n"
        "Ladungsfrist: 14 Tage vor der Sitzung\n"
        "Umlaufverfahren: Frist 7 Tage; abstimmen müssen mindestens die Hälfte der "
        "stimmberechtigten Mitglieder; widerspricht ein Mitglied dem Verfahren, kommt der "
        "Beschluss nicht zustande\n"
        "Tagesordnung: Punkte anmelden bis 10 Tage vor der Sitzung\n"
        "Protokoll: gilt als genehmigt, wenn niemand innerhalb von 14 Tagen widerspricht\n"
        "Stimmberechtigt: alle Mitglieder des Raums (5)\n"
    ) in shown
    assert "Rollen in diesem Raum" in shown


def test_only_the_parts_named_change(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!geschäftsordnung setze " + GERMAN)
    answer = dialog.text(
        COORDINATOR, "!geschäftsordnung setze ladungsfrist 3 wochen | Stichentscheid des Vorsitzes"
    )
    assert answer.splitlines()[1:] == [
        "Beschlüsse: einfache Mehrheit der abgegebenen Stimmen; Enthaltungen zählen nicht; "
        "bei Stimmengleichheit entscheidet die Stimme des Vorsitzes",
        "Ladungsfrist: 21 Tage vor der Sitzung",
    ]
    assert rules_now(dialog) == dataclasses.replace(
        AS_SET, invitation_days=21, chair_breaks_tie=True
    )
    assert "Zuletzt geändert von Bildungsbüro" in dialog.text(ANNA, "!geschäftsordnung")
    assert dialog.text(CHAIR, "!geschäftsordnung setze ladungsfrist 21 tage").startswith(
        "Das gilt schon so; ich habe nichts geändert."
    )


def test_the_chair_names_the_voting_members_and_can_return_to_everyone(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, f"!geschäftsordnung stimmberechtigt {ANNA} @ben, @carla")
    assert answer == "Gespeichert. Stimmberechtigt (3): Anna Schmidt, Ben Okafor, Carla Weber"
    assert "Stimmberechtigt (3): Anna Schmidt, Ben Okafor, Carla Weber" in dialog.text(
        BEN, "!geschäftsordnung"
    )
    assert dialog.text(BEN, "!geschäftsordnung stimmberechtigt") == (
        "Stimmberechtigt (3): Anna Schmidt, Ben Okafor, Carla Weber"
    )
    answer = dialog.text(CHAIR, "!geschäftsordnung stimmberechtigt alle")
    assert answer == (
        "Gespeichert: Es ist wieder jedes Mitglied des Raums stimmberechtigt. "
        "Stimmberechtigt: alle Mitglieder des Raums (5)"
    )
    with dialog.database.session() as s:
        assert store.voting_members(s, ROOM) == []


def test_voting_members_named_by_pill_as_element_sends_them(dialog: Dialog) -> None:
    html = (
        '!geschäftsordnung stimmberechtigt <a href="https://matrix.to/#/@anna:example.org">'
        'Anna Schmidt</a> <a href="https://matrix.to/#/@carla:example.org">Carla Weber</a>'
    )
    dialog.say(
        CHAIR,
        "!geschäftsordnung stimmberechtigt Anna Schmidt Carla Weber",
        mentions=(ANNA, CARLA),
        html=html,
    )
    with dialog.database.session() as s:
        assert store.voting_members(s, ROOM) == [ANNA, CARLA]


def test_a_member_may_neither_set_rules_nor_name_voters(dialog: Dialog) -> None:
    refusal = dialog.text(BEN, "!geschäftsordnung setze ladungsfrist 3 tage")
    assert refusal.startswith(
        "Die Regeln der Geschäftsordnung ändern und die Stimmberechtigten nennen dürfen nur "
        "der Vorsitz und die Koordination."
    )
    assert "nur der Vorsitz" in dialog.text(BEN, f"!geschäftsordnung stimmberechtigt {BEN}")
    assert stored(dialog) is None
    assert rules_now(dialog) == DEFAULT_RULES


def test_unreadable_parts_are_named_with_their_forms_and_nothing_is_stored(
    dialog: Dialog,
) -> None:
    answer = dialog.text(
        CHAIR, "!geschäftsordnung setze ladungsfrist 14 tage | quorum ein paar | umlauf 120 tage"
    )
    assert answer.splitlines() == [
        "Das kann ich nicht lesen; ich habe nichts geändert.",
        "„quorum ein paar“: nach `quorum` bitte `mehr als die Hälfte`, "
        "`mindestens die Hälfte` oder `mindestens 3` schreiben.",
        "„umlauf 120 tage“: eine Frist muss zwischen einem Tag und 90 Tagen liegen.",
    ]
    assert stored(dialog) is None
    unknown = dialog.text(CHAIR, "!geschäftsordnung setze sitzungen monatlich")
    assert "„sitzungen monatlich“: das kann ich keiner Regel zuordnen." in unknown
    assert "`tagesordnung anmeldung`" in unknown
    empty = dialog.text(CHAIR, "!geschäftsordnung setze")
    assert empty.startswith("Bitte schreiben Sie nach `setze`, welche Regeln gelten sollen")
    voters = dialog.text(CHAIR, "!geschäftsordnung stimmberechtigt @anna und der Kämmerer")
    assert voters.startswith("„und der Kämmerer“ ist kein Mitglied, das ich erkenne.")
    assert "nicht in diesem Raum" in dialog.text(
        CHAIR, "!geschäftsordnung stimmberechtigt @fremd:example.org"
    )
    with dialog.database.session() as s:
        assert store.voting_members(s, ROOM) == []
    assert stored(dialog) is None


def test_rules_set_in_english_and_refusals_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!settings language en")
    answer = dialog.text(CHAIR, "!rules set " + ENGLISH)
    assert answer.startswith("Saved; the other rules stay as they are. `!rules` shows all")
    assert rules_now(dialog) == AS_SET
    shown = dialog.text(ANNA, "!rules")
    assert "Rules for meetings and decisions" in shown
    assert "Quorum: more than half of the voting members present" in shown
    assert (
        "Decision by circulation: 7 days to vote; at least half of the voting members must vote"
        in shown
    )
    assert "Voting members: every member of the room (5)" in shown
    assert dialog.text(ANNA, "!rules set invitation 2 days").startswith(
        "Only the chair and the coordinating office can change the rules of procedure"
    )
    bad = dialog.text(CHAIR, "!rules set invitation 100 days")
    assert bad.splitlines() == [
        "I cannot read this; nothing was changed.",
        "“invitation 100 days”: a period must be between one day and 90 days.",
    ]
    assert dialog.text(CHAIR, f"!rules voting {ANNA} {BEN}") == (
        "Saved. Voting members (2): Anna Schmidt, Ben Okafor"
    )


def test_the_chair_returns_to_the_configs_rules(sqlite_db: Database) -> None:
    configured = dataclasses.replace(DEFAULT_RULES, invitation_days=10)
    defaults = Defaults(features={"rules": RulesSettings(default_rules=configured)})
    dialog = Dialog(sqlite_db, defaults=defaults)
    assert rules_now(dialog) == configured
    dialog.say(CHAIR, "!geschäftsordnung setze quorum mindestens die Hälfte")
    # The chair's part over the config's others.
    assert rules_now(dialog) == dataclasses.replace(
        configured, quorum=Threshold(ThresholdKind.AT_LEAST_HALF)
    )
    assert stored(dialog) == {"quorum": {"kind": "at_least_half", "count": 0}}
    assert "wieder die aus der Einrichtung" in dialog.text(CHAIR, "!geschäftsordnung setze zurück")
    assert rules_now(dialog) == configured
    assert "Das Gremium hat keine Regeln geändert" in dialog.text(
        CHAIR, "!geschäftsordnung setze zurück"
    )


# -------------------------------------------------------------------------- the config


def _config(tmp_path: Path, rules: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "homeserver: https://m.example.org\nuser_id: '@b:example.org'\npassword: x\n"
        "rules:\n" + rules,
        "utf-8",
    )
    return path


def test_the_config_gives_each_committee_its_rules_in_the_same_words(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "  default_params: 'ladungsfrist 14 tage | Stichentscheid des Vorsitzes'\n"
        f"  params:\n    '{ROOM}': 'quorum at least 3 | umlauf 7 tage'\n",
    )
    defaults = load_config(path, environ={}).build_defaults()
    every = dataclasses.replace(DEFAULT_RULES, invitation_days=14, chair_breaks_tie=True)
    assert configured_rules(defaults, "!anders:example.org") == every
    # A room's parameters change the default ones only where they say something.
    assert configured_rules(defaults, ROOM) == dataclasses.replace(
        every, quorum=Threshold(ThresholdKind.AT_LEAST, 3), circulation_days=7
    )
    assert configured_rules(Defaults(), ROOM) == DEFAULT_RULES


def test_unreadable_rules_in_the_config_are_named_with_key_and_line(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        f"  default_params: 'ladungsfrist 200 tage'\n  params:\n    '{ROOM}': 'quorum meistens'\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    problems = "\n".join(err.value.problems)
    assert f"{path}:5: rules.default_params:" in problems
    assert "“ladungsfrist 200 tage”: a period must be between one day and 90 days." in problems
    assert "rules.params" in problems
    assert f"cannot read the rules for {ROOM}: “quorum meistens”: after `quorum`" in problems
