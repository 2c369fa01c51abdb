"""The evaluation upgrade, as the committee reads it: "kann ich nicht beurteilen" counted
apart, the agreement rate and the year before beside every mean, pulses pooled, any
period of the period language, the six-dimension questionnaire, and the loop closed —
measures recorded after the survey, listed, and shown with their state a year later."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.runtime.matrix_content import text_of
from commands.core import i18n
from commands.core.context import Role
from commands.evaluation.report import report
from commands.evaluation.survey import questionnaire
from storage.db import Database
from tests import evaluation_helpers as build
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, Dialog, Sent
from tests.unit.test_evaluation_report import (
    ROOM,
    at,
    committee_year,
    context,
    lines,
    refusal,
    replies,
)
from tests.unit.test_survey import env_of, polls_of, started, wake

DORA = "@dora:example.org"
EMIL = "@emil:example.org"
MEASURE = "!auswertung maßnahme Sitzungen auf 90 Minuten begrenzen @anna bis 31.3."


def ended_survey(dialog: Dialog, answers: dict[str, list[str]]) -> None:
    """The coordination starts this year's survey, each member answers statement by
    statement (answer IDs; "0" is "kann ich nicht beurteilen"), and it ends."""
    shown = dialog.text(COORDINATOR, "!auswertung starten")
    assert "gestartet" in shown or "has started" in shown
    sent = wake(dialog, dialog.now, env_of(dialog))
    for who, chosen in answers.items():
        asked = polls_of([s for s in sent if s.to_user == who])
        for poll, value in zip(asked, chosen, strict=False):
            dialog.answer_poll(who, poll.event_id, (value,), room_id=dialog.dm_room(who))
    wake(dialog, dialog.now + dt.timedelta(days=15), env_of(dialog))
    dialog.now += dt.timedelta(days=16)


def report_text(dialog: Dialog, command: str = "!auswertung") -> str:
    sent: list[Sent] = dialog.say(CHAIR, command)
    return "\n".join(s.body for s in sent if s.content.get("msgtype") != "m.image")


# ----------------------------------------------------------------- cannot judge


def test_cannot_judge_is_an_answer_counted_apart_and_never_toward_the_minimum(
    dialog: Dialog,
) -> None:
    dialog.members = {**dialog.members, DORA: "Dora Lang", EMIL: "Emil Roth"}
    # Statement 1: two real answers, five who cannot judge. Statement 2: three real
    # answers, four who cannot judge.
    ended_survey(
        dialog,
        {
            ANNA: ["4", "4"],
            BEN: ["5", "5"],
            CARLA: ["0", "2"],
            CHAIR: ["0", "0"],
            COORDINATOR: ["0", "0"],
            DORA: ["0", "0"],
            EMIL: ["0", "0"],
        },
    )
    shown = report_text(dialog).splitlines()
    assert "7 von 7 Mitgliedern haben teilgenommen (100 %)." in shown
    first = shown.index("1. Das Gremium hat klare Ziele, die alle Mitglieder teilen.")
    assert shown[first + 1] == (
        "2 Antworten – Mittelwert und Verteilung zeige ich erst ab 3 Antworten."
    )
    second = shown.index("2. Im Gremium sitzen die richtigen Personen und Einrichtungen am Tisch.")
    assert shown[second + 1] == (
        "Mittelwert 3,7 von 5 aus 3 Antworten · 67 % stimmen zu"
        " · Verteilung 1: 0 · 2: 1 · 3: 0 · 4: 1 · 5: 1 · 4× kann ich nicht beurteilen"
    )
    # Of the statement below the minimum not even how many could not judge it.
    assert "5× kann ich nicht beurteilen" not in "\n".join(shown)


def test_cannot_judge_is_offered_in_english_too(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache englisch")
    assert "has started" in dialog.text(COORDINATOR, "!evaluation start")
    sent = wake(dialog, dialog.now, env_of(dialog))
    [intro, first, *_] = [s for s in sent if s.to_user == ANNA]
    assert "or with “cannot judge”" in intro.body
    answers = first.content["org.matrix.msc3381.poll.start"]["answers"]
    assert text_of(answers[-1]) == "cannot judge"


# ----------------------------------------------------------------- pulses, pooled


def test_pulses_are_pooled_by_their_answers_never_by_their_means(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        build.room(s, ROOM, name="Gremium")
        build.pulse(s, ROOM, at(3, 2), [5, 5, 5])
        build.pulse(s, ROOM, at(3, 23), [1] * 10)
        shown = lines(report(context(s), ""))
        quarter = lines(report(context(s), "Q1 2026"))
    # (3·5 + 10·1) / 13 = 1,9 — not (5 + 1) / 2 = 3,0.
    assert "März: Mittelwert 1,9 (2 Pulse)" in shown
    assert "Im ganzen Jahr: Mittelwert 1,9 aus 2 Pulsen." in shown
    assert "Im ganzen Zeitraum: Mittelwert 1,9 aus 2 Pulsen." in quarter
    assert not any("3,0" in line for line in shown)


# ------------------------------------------------------------------------ periods


def test_a_quarter_counts_its_pulses_and_agreements_beside_the_years_survey(
    sqlite_db: Database,
) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = lines(report(context(s), "Q1 2026"))
        spoken = lines(report(context(s), "1. Quartal"))
    assert shown[0] == (
        "Auswertung 1. Quartal 2026 – Gremium Übergang Schule–Beruf"
        " (mit der Jahresbefragung 2026, dem Jahr, in dem der Zeitraum endet)"
    )
    assert sorted(spoken) == sorted(shown)  # the free texts come in random order
    assert "Jahresbefragung 2026" in shown
    assert "Puls 1. Quartal 2026 (gezählt werden Pulse mit mindestens 3 Stimmen)" in shown
    assert "März: Mittelwert 3,7 (2 Pulse)" in shown
    assert not any(line.startswith("Mai:") for line in shown)
    assert "Verabredungen 1. Quartal 2026" in shown
    assert "• 3 festgehalten, davon 3 erledigt, 2 fristgerecht, 0 überfällig" in shown


@pytest.mark.parametrize(
    ("words", "heading", "recorded"),
    [
        ("März 2026", "Auswertung März 2026", 3),
        ("Januar bis April", "Auswertung 01.01.2026–30.04.2026", 4),
        ("letztes Jahr", "Auswertung 2025", 2),
    ],
)
def test_a_month_a_range_or_last_year(
    sqlite_db: Database, words: str, heading: str, recorded: int
) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = lines(report(context(s), words))
    assert shown[0].startswith(heading + " – Gremium Übergang Schule–Beruf")
    assert any(line.startswith(f"• {recorded} festgehalten, davon") for line in shown)


def test_a_period_across_new_year_names_the_months_with_their_year(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        build.room(s, ROOM, name="Gremium")
        build.pulse(s, ROOM, at(12, 1, 2025), [4, 4, 4])
        build.pulse(s, ROOM, at(1, 12), [2, 2, 2])
        shown = lines(report(context(s), "01.12.2025 bis 31.01.2026"))
    assert "Jahresbefragung 2026" in shown
    assert "Dezember 2025: Mittelwert 4,0 (1 Puls)" in shown
    assert "Januar 2026: Mittelwert 2,0 (1 Puls)" in shown


def test_all_committees_for_a_quarter(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        committee_year(s)
        shown = replies(report(context(s, role=Role.COORDINATION), "alle Q1 2026"))
    assert "Auswertung 1. Quartal 2026 – alle Gremien (1; Jahresbefragung 2026)" in shown
    assert "Verabredungen: 3 festgehalten, davon 3 erledigt, 2 fristgerecht, 0 überfällig" in shown


def test_what_is_no_period_gets_the_forms_that_are(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, "!auswertung Sankt Nimmerlein")
    assert answer.startswith("Den Zeitraum „Sankt Nimmerlein“ verstehe ich nicht.")
    assert "`Q1 2026`" in answer
    assert "`Januar bis März`" in answer


def test_a_period_not_yet_begun_is_refused(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        answer = refusal(context(s), "Q1 2027")
    assert answer.startswith("Der Zeitraum „Q1 2027“ hat noch nicht begonnen.")


# ---------------------------------------------------------------- the questionnaire


@pytest.mark.parametrize(
    ("lang", "dimensions"),
    [
        ("de", ["Ziele", "richtigen Personen", "nützt mir", "Informationen", "Bildungsbüro"]),
        ("en", ["goals", "right people", "my own work", "Information", "coordinating office"]),
    ],
)
def test_the_default_questionnaire_asks_the_six_dimensions(
    lang: str, dimensions: list[str]
) -> None:
    statements = questionnaire(lang, ())
    assert len(statements) == 6
    assert len(set(statements)) == 6
    for word, statement in zip(dimensions, statements, strict=False):
        assert word in statement
    assert ("umgesetzt" if lang == "de" else "put into practice") in statements[5]
    assert statements == [
        i18n.plain(lang, f"evaluation.default.statement_{n}") for n in range(1, 7)
    ]


def test_a_configured_questionnaire_replaces_the_default() -> None:
    assert questionnaire("de", ("Wir treffen uns oft genug.",)) == ["Wir treffen uns oft genug."]


def test_members_are_asked_six_statements(dialog: Dialog) -> None:
    shown = dialog.text(COORDINATOR, "!auswertung starten")
    assert "bekommen die 6 Aussagen gleich per Direktnachricht" in shown


# ------------------------------------------------------------------ closing the loop


def test_no_measure_before_a_survey_has_ended(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, MEASURE)
    assert answer == (
        "Maßnahmen halte ich nach einer Jahresbefragung fest – in diesem Gremium ist noch"
        " keine beendet. Eine gewöhnliche Verabredung geht mit `!verabredung`."
    )
    started(dialog)  # running is not ended
    assert "noch keine beendet" in dialog.text(CHAIR, MEASURE)
    assert "Verabredung #1" not in dialog.text(CHAIR, "!liste")


def test_the_chair_records_a_measure_as_an_ordinary_agreement(dialog: Dialog) -> None:
    ended_survey(dialog, {ANNA: ["4"] * 6, BEN: ["2"] * 6, CARLA: ["3"] * 6})
    [reply] = dialog.say(CHAIR, MEASURE)
    assert "Verabredung #1 festgehalten: Sitzungen auf 90 Minuten begrenzen" in reply.body
    assert "Verantwortlich: Anna Schmidt" in reply.body
    assert "Frist: Di., 31. März 2026" in reply.body
    assert reply.body.endswith(
        "Das ist eine Maßnahme aus der Auswertung 2026: Die Auswertung des nächsten Jahres"
        " zeigt sie mit ihrem Stand."
    )
    assert reply.mentions == (ANNA,)
    assert reply.ref_kind == "agreement"
    # An ordinary agreement: in the list, and done by its owner as any other.
    assert "Sitzungen auf 90 Minuten begrenzen" in dialog.text(ANNA, "!liste")
    # A member may not record one; the plural with a text records one too.
    assert "Vorsitz" in dialog.text(ANNA, "!auswertung maßnahme Pausen einplanen")
    shown = dialog.text(CHAIR, "!auswertung Maßnahmen Protokolle binnen einer Woche verschicken")
    assert "Verabredung #2 festgehalten: Protokolle binnen einer Woche verschicken" in shown


def test_everyone_in_the_room_can_list_the_years_measures_with_their_state(
    dialog: Dialog,
) -> None:
    ended_survey(dialog, {ANNA: ["4"] * 6, BEN: ["2"] * 6, CARLA: ["3"] * 6})
    assert "Zur Auswertung 2026 ist noch keine Maßnahme festgehalten." in dialog.text(
        ANNA, "!auswertung maßnahmen"
    )
    dialog.say(CHAIR, MEASURE)
    dialog.say(CHAIR, "!auswertung maßnahme Einarbeitung neuer Mitglieder @ben")
    dialog.say(CHAIR, "!verabredung Raum buchen")  # no measure
    dialog.say(BEN, "!erledigt 2")
    listed = dialog.text(ANNA, "!auswertung maßnahmen").splitlines()
    assert listed == [
        "Maßnahmen aus der Auswertung 2026",
        "• #1 Sitzungen auf 90 Minuten begrenzen – offen, Frist: Di., 31.3.",
        "• #2 Einarbeitung neuer Mitglieder – erledigt am Mi., 25. März 2026",
    ]
    assert dialog.text(ANNA, "!auswertung maßnahmen 2026").splitlines() == listed
    assert "keine Maßnahme" in dialog.text(ANNA, "!auswertung maßnahmen 2025")
    assert "hat noch nicht begonnen" in dialog.text(ANNA, "!auswertung maßnahmen 2030")


def test_next_years_report_shows_the_measures_with_their_state_beside_the_figures(
    dialog: Dialog,
) -> None:
    ended_survey(dialog, {ANNA: ["4"] * 6, BEN: ["2"] * 6, CARLA: ["3"] * 6})
    this_year = report_text(dialog)
    assert "Maßnahmen aus der Auswertung 2026" in this_year
    assert "Noch keine festgehalten. Was soll sich ändern? `!auswertung maßnahme`" in this_year
    dialog.say(CHAIR, MEASURE)
    dialog.say(CHAIR, "!auswertung maßnahme Einarbeitung neuer Mitglieder @ben bis 30.6.")
    dialog.say(BEN, "!erledigt 2")

    dialog.now = dt.datetime(2027, 4, 12, 10, 0, tzinfo=BERLIN)
    ended_survey(dialog, {ANNA: ["5"] * 6, BEN: ["4"] * 6, CARLA: ["4"] * 6})
    shown = report_text(dialog).splitlines()
    title = shown.index("Maßnahmen aus der Auswertung 2026")
    assert shown[title + 1 : title + 3] == [
        "• #1 Sitzungen auf 90 Minuten begrenzen – überfällig, Frist: Di., 31.3.2026",
        "• #2 Einarbeitung neuer Mitglieder – erledigt am Mi., 25. März 2026",
    ]
    # Beside the figures they answered: this year's statements against last year's.
    assert shown.index("Jahresbefragung 2027") < title
    assert any(line.endswith("(Vorjahr: 3,0 / 33 %)") for line in shown[:title])
    # And this year's evaluation waits for its own measures.
    assert "Maßnahmen aus der Auswertung 2027" in shown
    # The report names no member: measures stand without their owners.
    assert "Anna" not in "\n".join(shown)
    assert "@" not in "\n".join(shown)


def test_measures_in_english(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache englisch")
    assert "none has ended" in dialog.text(CHAIR, "!evaluation measure Shorter meetings")
    ended_survey(dialog, {ANNA: ["4"] * 6, BEN: ["2"] * 6, CARLA: ["3"] * 6})
    recorded = dialog.text(CHAIR, "!evaluation measure Limit meetings to 90 minutes @anna by 31.3.")
    assert "This is a measure taken on the 2026 evaluation" in recorded
    listed = dialog.text(ANNA, "!evaluation measures")
    assert "Measures taken on the 2026 evaluation" in listed
    assert "#1 Limit meetings to 90 minutes – open, due:" in listed
