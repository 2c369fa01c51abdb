"""`!geschäftsordnung` / `!rules`: the room's rules of procedure, who holds which role, and
every version with who set it and when."""

from __future__ import annotations

import datetime as dt

from sqlmodel import func, select

from commands.core.defaults import Defaults
from commands.desk.settings import RULES_TEXT_LIMIT, RulesSettings
from storage.db import Database
from storage.models import RulesText
from tests.dialog import ANNA, BEN, CHAIR, COORDINATOR, ROOM, Dialog

RULES = (
    "§ 1 Der Ausschuss tagt monatlich.\n"
    "§ 2 Beschlüsse brauchen <b>die Mehrheit</b> & ein Protokoll.\n"
    "\n"
    "§ 3 Verabredungen werden mit !verabredung festgehalten."
)


def versions(db: Database) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(RulesText)).one()


def test_the_chair_sets_rules_and_a_member_reads_them_with_the_roles(dialog: Dialog) -> None:
    [saved] = dialog.say(CHAIR, "!geschäftsordnung " + RULES)
    assert "Geschäftsordnung gespeichert (Fassung 1, 151 Zeichen)" in saved.body
    [shown] = dialog.say(ANNA, "!geschäftsordnung")
    assert shown.body == (
        "Geschäftsordnung dieses Gremiums\n"
        "Fassung von Vorsitz Meyer, Mo., 9. März 2026, 10:15 Uhr:\n"
        f"{RULES}\n"
        "\n"
        "Regeln für Sitzungen und Beschlüsse\n"
        "Beschlussfähigkeit: mehr als die Hälfte der stimmberechtigten Mitglieder anwesend\n"
        "Beschlüsse: einfache Mehrheit der abgegebenen Stimmen; Enthaltungen zählen nicht; "
        "bei Stimmengleichheit abgelehnt\n"
        "Ladungsfrist: 7 Tage vor der Sitzung\n"
        "Umlaufverfahren: Frist 14 Tage; abstimmen müssen mehr als die Hälfte der "
        "stimmberechtigten Mitglieder; widerspricht ein Mitglied dem Verfahren, kommt der "
        "Beschluss nicht zustande\n"
        "Tagesordnung: Punkte anmelden bis 14 Tage vor der Sitzung\n"
        "Protokoll: gilt als genehmigt, wenn niemand innerhalb von 14 Tagen widerspricht\n"
        "Stimmberechtigt: alle Mitglieder des Raums (5)\n"
        "Vorsitz und Koordination ändern sie mit `!geschäftsordnung setze ladungsfrist 14 tage "
        "| …` und nennen die Stimmberechtigten mit `!geschäftsordnung stimmberechtigt @anna "
        "@ben …`.\n"
        "\n"
        "Rollen in diesem Raum\n"
        "Vorsitz: Vorsitz Meyer\n"
        "Koordination (Bildungsbüro, für alle Gremien): Bildungsbüro\n"
        "Alle anderen sind Mitglieder."
    )
    # Line breaks kept, the member's markup shown as text, not rendered.
    assert "ein Protokoll.<br><br>§ 3" in shown.html
    assert "&lt;b&gt;die Mehrheit&lt;/b&gt; &amp; ein" in shown.html
    assert "<b>die Mehrheit</b>" not in shown.html
    # Shown by name only: nobody is notified.
    assert shown.mentions == ()


def test_a_chair_set_with_rolle_and_the_coordination_may_set_them_too(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!rolle @anna vorsitz", mentions=(ANNA,))
    assert "Fassung 1" in dialog.text(ANNA, "!geschaeftsordnung Erste Fassung")
    assert "Fassung 2" in dialog.text(COORDINATOR, "!rules Zweite Fassung")
    assert "Vorsitz: Anna Schmidt, Vorsitz Meyer" in dialog.text(BEN, "!geschäftsordnung")


def test_a_member_may_not_set_them_and_nothing_changes(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!geschäftsordnung § 1 Alt")
    answer = dialog.text(BEN, "!geschäftsordnung § 1 Neu")
    assert answer == (
        "Die Geschäftsordnung setzen dürfen nur der Vorsitz und die Koordination. "
        "Anzeigen darf sie jedes Mitglied mit `!geschäftsordnung`."
    )
    assert versions(dialog.database) == 1
    assert "§ 1 Alt" in dialog.text(BEN, "!geschäftsordnung")


def test_empty_or_too_long_rules_are_refused_and_nothing_changes(dialog: Dialog) -> None:
    empty = dialog.text(CHAIR, "!geschäftsordnung „ “ ...")
    assert empty.startswith("Die Geschäftsordnung darf nicht leer sein.")
    assert "So geht es: `!geschäftsordnung` · `!geschäftsordnung verlauf`" in empty
    longest = "§ " + "x" * (RULES_TEXT_LIMIT - 2)
    assert "Fassung 1, 20000 Zeichen" in dialog.text(CHAIR, "!geschäftsordnung " + longest)
    too_long = dialog.text(CHAIR, "!geschäftsordnung " + longest + "x")
    assert too_long == (
        "Die Geschäftsordnung ist zu lang (20001 Zeichen, höchstens 20000). "
        "Bitte kürzen Sie sie; ich habe nichts geändert."
    )
    assert versions(dialog.database) == 1


def test_the_longest_rules_are_shown_whole_in_parts(dialog: Dialog) -> None:
    line = "§ Jede Verabredung hat eine verantwortliche Person und eine Frist. äöü\n"
    text = (line * (RULES_TEXT_LIMIT // len(line)))[:RULES_TEXT_LIMIT].strip()
    dialog.say(CHAIR, "!geschäftsordnung " + text)
    parts = dialog.say(ANNA, "!geschäftsordnung")
    assert text in "\n".join(p.body for p in parts)


def test_every_version_is_kept_with_who_and_when(dialog: Dialog) -> None:
    assert "noch keine Geschäftsordnung festgelegt" in dialog.text(
        ANNA, "!geschäftsordnung verlauf"
    )
    dialog.say(CHAIR, "!geschäftsordnung § 1 Erste Fassung")
    dialog.now += dt.timedelta(days=2)
    dialog.say(COORDINATOR, "!geschäftsordnung § 1 Zweite Fassung\n§ 2 Neu")
    assert "schon die geltende Fassung" in dialog.text(
        COORDINATOR, "!geschäftsordnung § 1 Zweite Fassung\n§ 2 Neu"
    )
    history = dialog.text(ANNA, "!geschäftsordnung verlauf")
    assert history.splitlines() == [
        "Fassungen der Geschäftsordnung (neueste zuerst)",
        "Fassung 2: Mi., 11. März 2026, 10:15 Uhr, Bildungsbüro, 26 Zeichen – "
        "„§ 1 Zweite Fassung § 2 Neu“",
        "Fassung 1: Mo., 9. März 2026, 10:15 Uhr, Vorsitz Meyer, 17 Zeichen – „§ 1 Erste Fassung“",
    ]
    assert "Fassung von Bildungsbüro, Mi., 11. März 2026" in dialog.text(ANNA, "!geschäftsordnung")


def test_rules_from_the_config_file_are_shown_until_the_chat_sets_its_own(
    sqlite_db: Database,
) -> None:
    files = RulesSettings(by_room={ROOM: "# Geschäftsordnung\n§ 1 Aus der Datei"}, default="Muster")
    dialog = Dialog(sqlite_db, defaults=Defaults(features={"rules": files}))
    shown = dialog.text(ANNA, "!geschäftsordnung")
    assert "Aus der Einrichtung des Bots" in shown
    assert "# Geschäftsordnung\n§ 1 Aus der Datei" in shown
    other = Dialog(sqlite_db, room_id="!anders:example.org", defaults=dialog.defaults)
    other._ids = iter(range(500, 600))
    assert "Muster" in other.text(ANNA, "!geschäftsordnung")
    dialog.say(CHAIR, "!geschäftsordnung § 1 Aus dem Chat")
    shown = dialog.text(ANNA, "!geschäftsordnung")
    assert "§ 1 Aus dem Chat" in shown
    assert "Aus der Datei" not in shown


def test_without_rules_the_room_is_told_who_may_set_them_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!settings language en")
    shown = dialog.text(ANNA, "!rules")
    assert "No rules of procedure have been set for this committee yet." in shown
    assert "`!rules <text>`" in shown
    assert "Chair: Vorsitz Meyer" in shown
    assert "Only the chair and the coordinating office can set" in dialog.text(BEN, "!rules § 1")
