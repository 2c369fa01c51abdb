"""Decisions in a meeting (`!beschluss … ja 6 nein 1 enthaltung 2`): checked against the
quorum of those present at the roll call and the majority, numbered when passed, refused
without quorum, without a meeting or with more votes than members present; follow-up
agreements; and every decision in `!beschlüsse`, the minutes, the exports and the
leadership's report."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from sqlmodel import select

from commands.exports.run import FORMATS, export, make_scope
from storage.models import Decision
from tests.dialog import ANNA, BEN, BERLIN, CHAIR, COORDINATOR, ROOM, Dialog
from tests.unit.decision_helpers import VOTING, name_voting_members, start, vote

MOTION = "Sommerfest am 4. Juli im Schulzentrum"


def present(dialog: Dialog, *who: str) -> None:
    """The roll call: the chair, present since starting the meeting, enters the others."""
    others = tuple(u for u in who if u != CHAIR)
    said = dialog.text(CHAIR, "!anwesend " + " ".join(others), mentions=others)
    assert "Als anwesend eingetragen" in said, said


def stored(dialog: Dialog) -> list[Decision]:
    with dialog.database.session() as s:
        return list(s.exec(select(Decision).order_by(Decision.id)))  # type: ignore[arg-type]


def meeting_with(dialog: Dialog, *who: str) -> None:
    name_voting_members(dialog, *VOTING)
    assert "Sitzung #1 läuft" in dialog.text(CHAIR, "!sitzung start")
    present(dialog, *who)


def test_a_decision_with_quorum_is_numbered_listed_and_in_the_minutes(dialog: Dialog) -> None:
    name_voting_members(dialog, *VOTING)
    # A circulation that ended before the meeting: its minutes report it.
    poll, _ = start(dialog, "!umlauf Zuschuss für den Bücherflohmarkt")
    vote(dialog, BEN, poll, "objection")
    dialog.now += dt.timedelta(hours=1)
    dialog.say(CHAIR, "!sitzung start Frühjahrssitzung")
    present(dialog, ANNA, BEN, CHAIR)  # 3 of 4 voting members: quorum (more than half)

    said = dialog.text(CHAIR, f"!beschluss {MOTION} ja 2 nein 0 enthaltung 1")
    assert f"Beschluss 2026/1 festgehalten: „{MOTION}“" in said
    assert (
        "3 von 4 stimmberechtigten Mitgliedern anwesend (nötig: 3); "
        "Ja 2, Nein 0, Enthaltung 1; einfache Mehrheit: angenommen"
    ) in said
    assert "`!beschluss 2026/1 folge`" in said
    rejected = dialog.text(CHAIR, "!beschluss Zweiter Kiosk, Nein: 2, Ja: 1")
    assert "Abgelehnt und so festgehalten: „Zweiter Kiosk“" in rejected
    assert "Ja 1, Nein 2, Enthaltung 0; einfache Mehrheit: abgelehnt" in rejected
    unanimous = dialog.text(CHAIR, "!beschluss Einladung an die Presse einstimmig")
    assert "Beschluss 2026/2 festgehalten" in unanimous
    assert "Ja 3, Nein 0, Enthaltung 0" in unanimous

    listed = dialog.text(ANNA, "!beschlüsse")
    assert f"2026/1 (Mo., 9. März 2026) „{MOTION}“ – in Sitzung #1; Ja 2" in listed
    assert "2026/2" in listed
    assert "„Zweiter Kiosk“ – abgelehnt" in listed
    assert "„Zuschuss für den Bücherflohmarkt“ – nicht zustande gekommen – Widerspruch" in listed

    dialog.now += dt.timedelta(minutes=50)
    minutes = dialog.text(CHAIR, "!sitzung ende")
    assert "Beschlüsse in dieser Sitzung (3):" in minutes
    assert f"• Beschluss 2026/1: „{MOTION}“ – Ja 2, Nein 0, Enthaltung 1" in minutes
    assert "• „Zweiter Kiosk“ – abgelehnt; Ja 1, Nein 2, Enthaltung 0" in minutes
    assert "Umlaufverfahren seit der letzten Sitzung (1):" in minutes
    assert "• „Zuschuss für den Bücherflohmarkt“ – nicht zustande gekommen – Widerspruch" in (
        minutes
    )

    # The next meeting's minutes name only the circulations decided since this one.
    dialog.now += dt.timedelta(days=1)
    poll, _ = start(dialog, "!umlauf Neue Bänke")
    for who in VOTING:
        vote(dialog, who, poll, "yes")
    dialog.now += dt.timedelta(days=1)
    dialog.say(CHAIR, "!sitzung start")
    dialog.now += dt.timedelta(minutes=30)
    second = dialog.text(CHAIR, "!sitzung ende")
    assert "Umlaufverfahren seit der letzten Sitzung (1):" in second
    assert "• Beschluss 2026/3: „Neue Bänke“ – Ja 4, Nein 0, Enthaltung 0" in second
    assert "Bücherflohmarkt" not in second
    assert "Beschlüsse in dieser Sitzung" not in second


def test_without_quorum_a_decision_is_refused_naming_the_rule(dialog: Dialog) -> None:
    meeting_with(dialog, ANNA, CHAIR)  # 2 of 4
    refused = dialog.text(CHAIR, f"!beschluss {MOTION} ja 2")
    assert refused == (
        "Nicht beschlussfähig: 2 von 4 stimmberechtigten Mitgliedern sind als anwesend "
        "festgestellt, nötig sind 3 (Geschäftsordnung: beschlussfähig mit mehr als die Hälfte "
        "der stimmberechtigten Mitglieder anwesend). Ich habe nichts festgehalten. Anwesende "
        "melden sich mit `!anwesend`."
    )
    assert stored(dialog) == []
    # Someone who only wrote something is no roll-call answer.
    dialog.chat(BEN, "Bin auch da, nur ohne Kamera")
    assert "Nicht beschlussfähig: 2 von 4" in dialog.text(CHAIR, f"!beschluss {MOTION} ja 2")


def test_the_rules_quorum_applies(dialog: Dialog) -> None:
    meeting_with(dialog, ANNA, CHAIR)
    dialog.text(CHAIR, "!geschäftsordnung setze quorum mindestens die Hälfte")
    assert "Beschluss 2026/1 festgehalten" in dialog.text(CHAIR, f"!beschluss {MOTION} ja 2")


def test_more_votes_than_members_present_are_refused(dialog: Dialog) -> None:
    meeting_with(dialog, ANNA, BEN, CHAIR)
    refused = dialog.text(CHAIR, f"!beschluss {MOTION} ja 3 nein 1")
    assert refused.startswith(
        "4 Stimmen sind genannt, aber nur 3 stimmberechtigte Mitglieder sind als anwesend "
        "festgestellt. Mehr Stimmen als Anwesende kann es nicht geben."
    )
    assert stored(dialog) == []


def test_without_a_running_meeting_the_chair_is_sent_to_the_circulation(dialog: Dialog) -> None:
    refused = dialog.text(CHAIR, f"!beschluss {MOTION} ja 6 nein 1 enthaltung 2")
    assert "nur fest, während eine Sitzung läuft (beginnen mit `!sitzung start`)" in refused
    assert "im Umlaufverfahren: `!umlauf`" in refused
    assert "Wie wurde abgestimmt?" in dialog.text(CHAIR, f"!beschluss {MOTION}")
    assert "Was hat die Sitzung beschlossen" in dialog.text(CHAIR, "!beschluss ja 3")
    assert "dürfen nur der Vorsitz und die Koordination" in dialog.text(
        ANNA, f"!beschluss {MOTION} ja 3"
    )
    assert stored(dialog) == []


def test_a_tie_passes_by_the_chairs_vote_only_where_the_rules_say_so(dialog: Dialog) -> None:
    meeting_with(dialog, *VOTING)
    tie = dialog.text(CHAIR, f"!beschluss {MOTION} ja 2 nein 2 vorsitz ja")
    assert "abgelehnt (Stimmengleichheit)" in tie
    dialog.text(CHAIR, "!geschäftsordnung setze stichentscheid des vorsitzes")
    tie = dialog.text(CHAIR, "!beschluss Zweiter Antrag ja 2 nein 2 vorsitz ja")
    assert "Beschluss 2026/1 festgehalten" in tie
    assert "Stimmengleichheit, durch die Stimme des Vorsitzes angenommen" in tie


def test_follow_up_agreements_are_recorded_and_listed_with_their_beschluss(
    dialog: Dialog,
) -> None:
    meeting_with(dialog, ANNA, BEN, CHAIR)
    dialog.say(CHAIR, f"!beschluss {MOTION} ja 3")
    dialog.say(CHAIR, "!beschluss Zweiter Kiosk nein 3")
    reply = dialog.text(
        CHAIR,
        "!beschluss 2026/1 folge Zelt beim Bauhof anfragen @anna bis Freitag",
        mentions=(ANNA,),
    )
    assert "Verabredung #1 festgehalten: Zelt beim Bauhof anfragen" in reply
    assert "Verantwortlich: Anna Schmidt" in reply
    assert "Folge aus Beschluss 2026/1." in reply
    dialog.say(CHAIR, "!beschluss 2026/1 folge Plakate drucken")
    listed = dialog.text(ANNA, "!beschlüsse")
    assert "Folge-Verabredungen: #1, #2" in listed
    assert "„Folge aus Beschluss 2026/1“" in dialog.text(ANNA, "!zeige 1")

    unknown = dialog.text(CHAIR, "!beschluss 2026/7 folge Plakate drucken")
    assert unknown.startswith("Einen Beschluss 2026/7 gibt es in diesem Raum nicht.")
    assert "Nach der Nummer eines Beschlusses verstehe ich nur `folge`" in dialog.text(
        CHAIR, "!beschluss 2026/1 Plakate drucken"
    )
    assert "Welche Verabredung folgt aus Beschluss 2026/1?" in dialog.text(
        CHAIR, "!beschluss 2026/1 folge"
    )
    assert "dürfen nur der Vorsitz" in dialog.text(BEN, "!beschluss 2026/1 folge Plakate")


def test_the_list_of_a_year_and_a_bad_year(dialog: Dialog) -> None:
    assert "Im Jahr 2025 hat dieses Gremium noch keinen Beschluss gefasst." in dialog.text(
        ANNA, "!beschlüsse 2025"
    )
    assert "„20x“ ist kein Jahr." in dialog.text(ANNA, "!beschlüsse 20x")
    name_voting_members(dialog, *VOTING)
    start(dialog, "!umlauf Neue Bänke bis Freitag")
    listed = dialog.text(ANNA, "!beschlüsse")
    assert "Laufende Umlaufverfahren (1):" in listed
    assert "• „Neue Bänke“ – abstimmen bis Fr., 13. März 2026, 23:59 Uhr" in listed


def test_decisions_are_exported_with_their_votes(dialog: Dialog) -> None:
    meeting_with(dialog, ANNA, BEN, CHAIR)
    dialog.say(CHAIR, f"!beschluss {MOTION} ja 2 nein 0 enthaltung 1")
    dialog.say(CHAIR, "!beschluss Zweiter Kiosk nein 3")
    _poll, _ = start(dialog, "!umlauf Neue Bänke")  # still running: no result to export
    scope = make_scope(room_ids=None, period=None, lang="de", tz=BERLIN, now=dialog.now)
    out = io.BytesIO()
    with dialog.database.session() as s:
        export(s, FORMATS["xlsx"], scope, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Beschlüsse"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:11] == (
        "Gremium",
        "Beschluss",
        "Entschieden am",
        "Antrag",
        "Verfahren",
        "Ja",
        "Nein",
        "Enthaltung",
        "Stimmberechtigt",
        "Abgestimmt/anwesend",
        "Ergebnis",
    )
    assert [r[1:2] + r[3:] for r in rows] == [
        ("2026/1", MOTION, "Sitzung", 2, 0, 1, 4, 3, "beschlossen", ROOM),
        (None, "Zweiter Kiosk", "Sitzung", 0, 3, 0, 4, 3, "abgelehnt", ROOM),
    ]
    assert isinstance(rows[0][2], dt.datetime)


def test_the_leadership_report_counts_and_names_the_periods_beschluesse(dialog: Dialog) -> None:
    meeting_with(dialog, ANNA, BEN, CHAIR)
    dialog.say(CHAIR, f"!beschluss {MOTION} ja 3")
    dialog.say(CHAIR, "!beschluss Zweiter Kiosk nein 3")
    report = dialog.text(COORDINATOR, "!bericht März 2026")
    assert "Beschlüsse im Zeitraum: 1" in report
    assert f"Beschluss 2026/1: {MOTION}" in report
    assert "Zweiter Kiosk" not in report
    assert "Beschlüsse im Zeitraum: 0" in dialog.text(COORDINATOR, "!bericht Februar 2026")
    paper = dialog.text(COORDINATOR, "!bericht vorlage März 2026")
    assert f"Beschluss 2026/1: {MOTION}" in paper


def test_an_english_room_records_and_lists_decisions_in_english(dialog: Dialog) -> None:
    meeting_with(dialog, ANNA, BEN)  # and the chair, who started it
    dialog.text(CHAIR, "!settings language english")
    said = dialog.text(CHAIR, f"!decision {MOTION} yes 2 no 1")
    assert "Decision 2026/1 recorded" in said
    assert "`!decision 2026/1 follow-up`" in said
    refused = dialog.text(CHAIR, f"!decision {MOTION} yes 3 no 1")
    assert "There cannot be more votes than members present." in refused
    listed = dialog.text(ANNA, "!decisions")
    assert "Decisions 2026" in listed
    assert "in meeting #1" in listed
