"""The leadership's decision tracking (Beschlusskontrolle): `!bericht` / `!report` on demand
for any period, `!bericht vorlage` as a committee paper, and once a month by itself."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.runtime.limits import MAX_PARTS
from bot.runtime.scheduler import run_timers
from commands.agreements.offices import OfficesSettings
from commands.core import i18n
from commands.core.defaults import Defaults
from commands.core.timers import TimerEnv
from commands.desk.settings import ReportSettings
from storage import lease, rooms
from storage.db import Database
from storage.models import OutboxMessage
from tests import seed
from tests.dialog import (
    ANNA,
    BEN,
    BERLIN,
    CARLA,
    CHAIR,
    COORDINATOR,
    REGISTRY,
    ROOM,
    Dialog,
    Sent,
)
from tests.export_data import keep_uploads
from tests.papers_support import pages, words

JUGEND = "!jugendhilfe:example.org"
LEITUNG = "!leitung:example.org"
# The config's map of offices: Anna's comes from it, Ben sets his own with `!amt`, Carla
# has none.
OFFICES = {ANNA: "Amt 40 – Schulverwaltung"}


def with_offices(dialog: Dialog) -> None:
    dialog.defaults = Defaults(features={"offices": OfficesSettings(by_user=OFFICES)})


def first_quarter(dialog: Dialog) -> Dialog:
    """The Schulausschuss's first quarter of 2026 and the Jugendhilfeausschuss beside it:
    overdue with and without a reason, done on time, done late, due later."""
    with_offices(dialog)
    dialog.now = dt.datetime(2026, 1, 5, 10, tzinfo=BERLIN)
    jugend = Dialog(
        dialog.database,
        room_id=JUGEND,
        now=dialog.now,
        defaults=dialog.defaults,
        _ids=itertools.count(1000),
    )
    with dialog.database.session() as s:
        seed.room(s, ROOM, name="Schulausschuss")
        seed.room(s, JUGEND, name="Jugendhilfeausschuss")
    dialog.say(BEN, "!amt Jugendamt")
    say = dialog.say
    say(CHAIR, "!verabredung Zahlen an das Landesamt melden @ben bis 15.2.", mentions=(BEN,))
    say(CHAIR, "!verabredung Raumkonzept vorlegen @carla bis 20.3.", mentions=(CARLA,))
    say(CHAIR, "!verabredung Einladung zum Fachtag verschicken @anna bis 30.1.", mentions=(ANNA,))
    say(CHAIR, "!verabredung Elternbrief abstimmen @anna @ben bis 10.3.", mentions=(ANNA, BEN))
    say(CHAIR, "!verabredung Bildungsbericht gliedern @anna bis 30.4.", mentions=(ANNA,))
    jugend.say(CHAIR, "!verabredung Jugendhilfeplanung vorstellen @ben bis 31.3.", mentions=(BEN,))
    dialog.now = dt.datetime(2026, 1, 28, 16, tzinfo=BERLIN)
    say(ANNA, "!erledigt 3")
    dialog.now = dt.datetime(2026, 2, 20, 9, tzinfo=BERLIN)
    say(BEN, "!grund 1 Zahlen des Landesamts kommen erst im April")
    dialog.now = dt.datetime(2026, 3, 12, 11, tzinfo=BERLIN)
    say(BEN, "!erledigt 4")
    jugend.now = dt.datetime(2026, 3, 30, 11, tzinfo=BERLIN)
    jugend.say(BEN, "!erledigt 1")
    dialog.now = dt.datetime(2026, 4, 2, 9, tzinfo=BERLIN)
    return jugend


def test_the_quarters_beschlusskontrolle_names_offices_due_dates_states_and_reasons(
    dialog: Dialog,
) -> None:
    first_quarter(dialog)
    [reply] = dialog.say(COORDINATOR, "!bericht quartal")
    assert reply.body.splitlines() == [
        "Beschlusskontrolle: 1. Quartal 2026",
        "Stand Do., 2. April 2026 · 2 Gremien. Genannt werden Ämter, keine Personen. "
        "Fristgerecht heißt: bis zum Ende der Frist erledigt oder ohne Frist.",
        "",
        "Alle Gremien",
        "• 6 festgehalten, davon 3 erledigt, 2 fristgerecht, 2 überfällig",
        "• 2 von 5 im Zeitraum fälligen fristgerecht erledigt (40 %)",
        "• 3 im Zeitraum erledigt, davon 2 fristgerecht",
        "• heute 3 offen, davon 2 überfällig",
        "• Sitzungen im Zeitraum: 0",
        "",
        "Jugendhilfeausschuss",
        "• 1 festgehalten, davon 1 erledigt, 1 fristgerecht, 0 überfällig",
        "• 1 von 1 im Zeitraum fälligen fristgerecht erledigt (100 %)",
        "• 1 im Zeitraum erledigt, davon 1 fristgerecht; "
        "im Median 84,0 Tage vom Festhalten bis erledigt",
        "• heute 0 offen, davon 0 überfällig",
        "Im Zeitraum fällig oder überfällig: keine",
        "Im Zeitraum erledigt: 1",
        "• #1 Jugendhilfeplanung vorstellen · Jugendamt · Frist 31.03.2026 · "
        "erledigt am 30.03.2026",
        "• Sitzungen im Zeitraum: 0",
        "• Beschlüsse im Zeitraum: 0",
        "• Zufriedenheit (Puls): kein Puls mit mindestens 3 Stimmen",
        "",
        "Schulausschuss",
        "• 5 festgehalten, davon 2 erledigt, 1 fristgerecht, 2 überfällig",
        "• 1 von 4 im Zeitraum fälligen fristgerecht erledigt (25 %)",
        "• 2 im Zeitraum erledigt, davon 1 fristgerecht; "
        "im Median 44,5 Tage vom Festhalten bis erledigt",
        "• heute 3 offen, davon 2 überfällig",
        "Im Zeitraum fällig oder überfällig: 2",
        "• #1 Zahlen an das Landesamt melden · Jugendamt · Frist 15.02.2026 · überfällig · "
        "Grund: Zahlen des Landesamts kommen erst im April",
        "• #2 Raumkonzept vorlegen · Amt nicht angegeben · Frist 20.03.2026 · überfällig · "
        "kein Grund genannt",
        "Im Zeitraum erledigt: 2",
        "• #3 Einladung zum Fachtag verschicken · Amt 40 – Schulverwaltung · "
        "Frist 30.01.2026 · erledigt am 28.01.2026",
        "• #4 Elternbrief abstimmen · Amt 40 – Schulverwaltung, Jugendamt · "
        "Frist 10.03.2026 · erledigt am 12.03.2026, nach Fristende",
        "• Sitzungen im Zeitraum: 0",
        "• Beschlüsse im Zeitraum: 0",
        "• Zufriedenheit (Puls): kein Puls mit mindestens 3 Stimmen",
        "",
        "Mögliche Doppelstrukturen",
        "Keine ähnlichen offenen Verabredungen in verschiedenen Gremien gefunden.",
    ]
    assert reply.mentions == ()
    # An agreement due after the quarter is not followed up in it.
    assert "Bildungsbericht" not in reply.body


def test_the_report_in_english(dialog: Dialog) -> None:
    first_quarter(dialog)
    dialog.say(CHAIR, "!einstellungen sprache en")
    body = dialog.text(COORDINATOR, "!report quarter")
    assert body.startswith("Decision tracking: Q1 2026\nAs of Thu, 2 April 2026 · 2 committees.")
    assert "• 2 of 5 due in the period done on time (40 %)" in body
    assert (
        "• #1 Zahlen an das Landesamt melden · Jugendamt · due 15 Feb 2026 · overdue · "
        "reason: Zahlen des Landesamts kommen erst im April"
    ) in body
    assert (
        "• #2 Raumkonzept vorlegen · office not given · due 20 Mar 2026 · overdue · no reason given"
    ) in body
    assert (
        "• #4 Elternbrief abstimmen · Amt 40 – Schulverwaltung, Jugendamt · due 10 Mar 2026 · "
        "done on 12 Mar 2026, after the due date"
    ) in body
    assert "Done in the period: 2" in body


def test_the_committee_paper_has_heading_paragraphs_table_and_closing(dialog: Dialog) -> None:
    first_quarter(dialog)
    [reply] = dialog.say(COORDINATOR, "!bericht vorlage")
    lines = reply.body.splitlines()
    assert lines[0] == "Sachstandsbericht zur Umsetzung der Beschlüsse – 1. Quartal 2026"
    assert lines[-1] == "Der Bericht wird zur Kenntnis genommen."
    school = lines.index("Schulausschuss")
    assert lines[school + 1] == (
        "5 festgehalten, davon 2 erledigt, 1 fristgerecht, 2 überfällig. "
        "1 von 4 im Zeitraum fälligen fristgerecht erledigt (25 %). "
        "2 im Zeitraum erledigt, davon 1 fristgerecht; "
        "im Median 44,5 Tage vom Festhalten bis erledigt. "
        "Heute 3 offen, davon 2 überfällig. Sitzungen im Zeitraum: 0. "
        "Beschlüsse im Zeitraum: 0. "
        "Zufriedenheit (Puls): kein Puls mit mindestens 3 Stimmen."
    )
    assert lines[school + 2 : school + 9] == [
        "",
        "| Nr. | Verabredung | Amt | Frist | Stand | Grund der Verzögerung |",
        "|---|---|---|---|---|---|",
        "| 1 | Zahlen an das Landesamt melden | Jugendamt | 15.02.2026 | überfällig | "
        "Zahlen des Landesamts kommen erst im April |",
        "| 2 | Raumkonzept vorlegen | Amt nicht angegeben | 20.03.2026 | überfällig | "
        "kein Grund genannt |",
        "| 3 | Einladung zum Fachtag verschicken | Amt 40 – Schulverwaltung | 30.01.2026 | "
        "erledigt am 28.01.2026 |  |",
        "| 4 | Elternbrief abstimmen | Amt 40 – Schulverwaltung, Jugendamt | 10.03.2026 | "
        "erledigt am 12.03.2026, nach Fristende |  |",
    ]
    assert lines[2].startswith("Stand: Do., 2. April 2026.")
    assert lines[4].startswith("Alle Gremien (2 Gremien): 6 festgehalten, davon 3 erledigt")
    # In the formatted text a table a word processor keeps as one.
    assert (
        "<tr><td>2</td><td>Raumkonzept vorlegen</td><td>Amt nicht angegeben</td>"
        "<td>20.03.2026</td><td>überfällig</td><td>kein Grund genannt</td></tr>"
    ) in reply.html
    assert reply.html.count("<table>") == 2
    # The quarter is the paper's usual period; another may be named.
    march = dialog.text(COORDINATOR, "!bericht vorlage März 2026")
    assert march.startswith("Sachstandsbericht zur Umsetzung der Beschlüsse – März 2026\n")
    assert "Einladung zum Fachtag" not in march


def test_the_committee_paper_in_english(dialog: Dialog) -> None:
    first_quarter(dialog)
    dialog.say(CHAIR, "!einstellungen sprache en")
    body = dialog.text(COORDINATOR, "!report paper Q1 2026")
    lines = body.splitlines()
    assert lines[0] == "Progress report on the implementation of decisions – Q1 2026"
    assert lines[-1] == "The committee takes note of the report."
    assert "| No. | Agreement | Office | Due | State | Reason for delay |" in lines
    assert (
        "| 2 | Raumkonzept vorlegen | office not given | 20 Mar 2026 | overdue | no reason given |"
    ) in lines
    assert any(li.startswith("5 recorded, 2 of them done, 1 on time, 2 overdue. ") for li in lines)


def test_a_table_cell_keeps_a_pipe_in_a_text_as_text(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Raum A | B klären <sofort> bis 12.3.")
    dialog.now = dt.datetime(2026, 4, 1, 9, tzinfo=BERLIN)
    [reply] = dialog.say(COORDINATOR, "!bericht vorlage März 2026")
    assert "| 1 | Raum A \\| B klären <sofort> | Amt nicht angegeben |" in reply.body
    assert "<td>Raum A | B klären &lt;sofort&gt;</td>" in reply.html


# ------------------------------------------------------------------- no person, anywhere


MEMBERS = {
    ANNA: "Anna Schmidt",
    BEN: "Ben Okafor",
    CARLA: "Carla Weber",
    CHAIR: "Vorsitz Meyer",
    COORDINATOR: "Bildungsbüro",
    "@dieter:example.org": "Dieter Kowalski",
    "@eva:example.org": "Eva Lindqvist",
    "@frank:example.org": "Frank Obermaier",
}


def person_traces(text: str) -> list[str]:
    """Every user ID, localpart, display name or part of one found in `text`."""
    found = []
    for user_id, name in MEMBERS.items():
        localpart = user_id[1:].split(":")[0]
        for trace in (user_id, "@" + localpart, name, *name.split()):
            if trace == "Bildungsbüro":
                continue  # the coordination's name is also the office's own word
            if re.search(rf"(?<!\w){re.escape(trace)}(?!\w)", text, re.IGNORECASE):
                found.append(trace)
    return found


def test_neither_report_nor_paper_names_a_member_or_shows_a_user_id(
    dialog: Dialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = keep_uploads(monkeypatch)
    dialog.members = dict(MEMBERS)
    jugend = first_quarter(dialog)
    jugend.members = dict(MEMBERS)
    dieter, eva, frank = "@dieter:example.org", "@eva:example.org", "@frank:example.org"
    dialog.now = jugend.now = dt.datetime(2026, 2, 2, 10, tzinfo=BERLIN)
    dialog.say(dieter, "!amt Amt 51 – Jugend")
    dialog.say(
        CHAIR, "!verabredung Förderantrag stellen @dieter @eva bis 10.2.", mentions=(dieter, eva)
    )
    jugend.say(eva, "!verabredung Sozialraumanalyse beauftragen @frank bis 1.3.", mentions=(frank,))
    jugend.say(frank, "!verabredung Kooperationsvertrag @dieter bis 5.3.", mentions=(dieter,))
    dialog.say(CHAIR, "!sitzung start Februarsitzung")
    dialog.say(CHAIR, "!sitzung ende")
    dialog.now = jugend.now = dt.datetime(2026, 2, 20, 10, tzinfo=BERLIN)
    dialog.say(eva, "!grund 6 Die Kämmerei prüft noch")
    jugend.say(dieter, "!erledigt 3")
    dialog.now = dt.datetime(2026, 4, 2, 9, tzinfo=BERLIN)
    sent: list[Sent] = []
    for command in ("!bericht quartal", "!bericht vorlage", "!bericht 2026", "!bericht Februar"):
        sent.extend(dialog.say(COORDINATOR, command))
    dialog.say(CHAIR, "!einstellungen sprache en")
    sent.extend(dialog.say(COORDINATOR, "!report quarter"))
    sent.extend(dialog.say(COORDINATOR, "!report paper"))
    assert len(sent) == 6
    for reply in sent:
        assert person_traces(reply.body) == [], reply.body
        assert person_traces(reply.html) == [], reply.html
        assert reply.mentions == ()
    # The PDF to file says no more: its every word, the page margins' too.
    for command in ("!report pdf quarter", "!report pdf 2026"):
        [file_msg] = dialog.say(COORDINATOR, command)
        pdf = uploads[file_msg.event_id][2]
        assert person_traces(" ".join(pages(pdf))) == []
        assert "Amt 51 – Jugend" in words(pdf)
    # The check finds people where they are named: the overview, inside the office, lists
    # the owners by name.
    overview = dialog.text(COORDINATOR, "!overview")
    assert {"Eva Lindqvist", "Dieter Kowalski", "Frank Obermaier"} <= set(person_traces(overview))
    # What the reports do say instead: the offices, and that one is missing.
    quarter = sent[0].body
    assert "#6 Förderantrag stellen · Amt 51 – Jugend · Frist 10.02.2026 · überfällig" in quarter
    assert "Grund: Die Kämmerei prüft noch" in quarter
    assert "#2 Sozialraumanalyse beauftragen · Amt nicht angegeben" in quarter


# ------------------------------------------------------------------------- the periods


def quiet_year(dialog: Dialog) -> None:
    """One agreement in January 2026 and the report asked in January 2027."""
    dialog.now = dt.datetime(2026, 1, 7, 10, tzinfo=BERLIN)
    dialog.say(ANNA, "!verabredung Jahresplanung abstimmen bis 20.1.")
    dialog.now = dt.datetime(2027, 1, 15, 10, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("asked", "title"),
    [
        ("", "Februar 2026"),
        ("2026", "2026"),
        ("letztes Jahr", "2026"),
        ("dieses Jahr", "2027"),
        ("Q1 2026", "1. Quartal 2026"),
        ("1. Quartal", "1. Quartal 2027"),
        ("letztes Quartal", "4. Quartal 2026"),
        ("quartal", "4. Quartal 2026"),
        ("November 2026", "November 2026"),
        ("letzter Monat", "Dezember 2026"),
        ("10/2026", "Oktober 2026"),
        ("Januar bis März 2026", "1. Quartal 2026"),
        ("01.02.2026–15.03.2026", "01.02.2026–15.03.2026"),
        ("2026-02-01 bis 2026-03-15", "01.02.2026–15.03.2026"),
    ],
)
def test_every_form_of_the_period_language(dialog: Dialog, asked: str, title: str) -> None:
    quiet_year(dialog)
    if not asked:
        dialog.now = dt.datetime(2026, 3, 9, 10, tzinfo=BERLIN)
    body = dialog.text(COORDINATOR, f"!bericht {asked}".strip())
    assert body.splitlines()[0] == f"Beschlusskontrolle: {title}"
    paper = dialog.text(COORDINATOR, f"!bericht vorlage {asked}".strip())
    if asked:
        assert paper.splitlines()[0] == (
            f"Sachstandsbericht zur Umsetzung der Beschlüsse – {title}"
        )


@pytest.mark.parametrize(
    ("asked", "title"),
    [
        ("2026", "2026"),
        ("last year", "2026"),
        ("Q1 2026", "Q1 2026"),
        ("1st quarter", "Q1 2027"),
        ("last quarter", "Q4 2026"),
        ("November 2026", "November 2026"),
        ("last month", "December 2026"),
        ("January to March 2026", "Q1 2026"),
        ("2026-02-01 to 2026-03-15", "1 Feb 2026–15 Mar 2026"),
    ],
)
def test_every_form_of_the_period_language_in_english(
    dialog: Dialog, asked: str, title: str
) -> None:
    quiet_year(dialog)
    dialog.say(CHAIR, "!einstellungen sprache en")
    assert dialog.text(COORDINATOR, f"!report {asked}").splitlines()[0] == (
        f"Decision tracking: {title}"
    )
    assert dialog.text(COORDINATOR, f"!report paper {asked}").splitlines()[0] == (
        f"Progress report on the implementation of decisions – {title}"
    )


def test_a_year_counts_what_was_recorded_and_due_in_it(dialog: Dialog) -> None:
    quiet_year(dialog)
    body = dialog.text(COORDINATOR, "!bericht letztes Jahr")
    assert "• 1 festgehalten, davon 0 erledigt, 0 fristgerecht, 1 überfällig" in body
    assert "• 0 von 1 im Zeitraum fälligen fristgerecht erledigt (0 %)" in body
    assert "• #1 Jahresplanung abstimmen · Amt nicht angegeben · Frist 20.01.2026" in body
    # November: nothing recorded or due in it, but the agreement is overdue now.
    november = dialog.text(COORDINATOR, "!bericht November 2026")
    assert "• 0 festgehalten, davon 0 erledigt, 0 fristgerecht, 0 überfällig" in november
    assert "• heute 1 offen, davon 1 überfällig" in november
    assert "überfällig · kein Grund genannt" in november


FORMS_DE = (
    "So geht es: `2026`, `dieses Jahr`, `letztes Jahr`, `Q1 2026`, `1. Quartal`, "
    "`letztes Quartal`, `November 2026`, `letzter Monat`, `Januar bis März`, "
    "`01.01.2026–31.03.2026`."
)
FORMS_EN = (
    "You can write: `2026`, `this year`, `last year`, `Q1 2026`, `1st quarter`, "
    "`last quarter`, `November 2026`, `last month`, `January to March`, "
    "`01.01.2026–31.03.2026`."
)


@pytest.mark.parametrize(
    ("asked", "answer"),
    [
        ("gestern", f"Den Zeitraum „gestern“ verstehe ich nicht. {FORMS_DE}"),
        ("13/2026", f"Den Zeitraum „13/2026“ verstehe ich nicht. {FORMS_DE}"),
        (
            "März bis Januar 2026",
            "Der Zeitraum „März bis Januar 2026“ endet, bevor er beginnt. "
            "Bitte nennen Sie den früheren Tag zuerst.",
        ),
        ("April 2027", f"Der Zeitraum „April 2027“ hat noch nicht begonnen. {FORMS_DE}"),
        ("2028", f"Der Zeitraum „2028“ hat noch nicht begonnen. {FORMS_DE}"),
        (
            "1999",
            "Der Zeitraum „1999“ geht nicht: Ein Zeitraum muss zwischen 2000 und 2037 liegen.",
        ),
        (
            "12/9999",
            "Der Zeitraum „12/9999“ geht nicht: Ein Zeitraum muss zwischen 2000 und 2037 liegen.",
        ),
    ],
)
def test_a_period_that_cannot_be_reported_is_refused_with_the_reason(
    dialog: Dialog, asked: str, answer: str
) -> None:
    quiet_year(dialog)
    assert dialog.text(COORDINATOR, f"!bericht {asked}") == answer
    assert dialog.text(COORDINATOR, f"!bericht vorlage {asked}") == answer


@pytest.mark.parametrize(
    ("asked", "answer"),
    [
        ("yesterday", f"I don't understand the period “yesterday”. {FORMS_EN}"),
        (
            "March to January 2026",
            "The period “March to January 2026” ends before it begins. "
            "Please give the earlier day first.",
        ),
        ("April 2027", f"The period “April 2027” has not begun yet. {FORMS_EN}"),
        (
            "1999",
            "The period “1999” is not possible: a period must lie between 2000 and 2037.",
        ),
    ],
)
def test_a_period_that_cannot_be_reported_is_refused_in_english(
    dialog: Dialog, asked: str, answer: str
) -> None:
    quiet_year(dialog)
    dialog.say(CHAIR, "!einstellungen sprache en")
    assert dialog.text(COORDINATOR, f"!report {asked}") == answer
    assert dialog.text(COORDINATOR, f"!report paper {asked}") == answer


def test_a_member_may_not_ask_for_the_report(dialog: Dialog) -> None:
    refusal = dialog.text(ANNA, "!bericht")
    assert refusal == i18n.plain("de", "permission.needs_chair", command="!bericht")
    assert dialog.text(ANNA, "!bericht vorlage") == i18n.plain(
        "de", "permission.needs_chair", command="!bericht vorlage"
    )


def test_a_chair_gets_the_report_of_their_own_committee_only(dialog: Dialog) -> None:
    first_quarter(dialog)
    body = dialog.text(CHAIR, "!bericht Q1 2026")
    assert "Schulausschuss" in body
    assert "Zahlen an das Landesamt melden" in body
    assert "Jugendhilfeausschuss" not in body
    assert "Jugendhilfeplanung vorstellen" not in body
    everything = dialog.text(COORDINATOR, "!bericht Q1 2026")
    assert "Jugendhilfeplanung vorstellen" in everything


# ------------------------------------------------------------- done once, then dropped


def done_entries(body: str) -> list[str]:
    """The numbers and texts listed under "Im Zeitraum erledigt"."""
    lines = body.splitlines()
    start = next(i for i, li in enumerate(lines) if li.startswith("Im Zeitraum erledigt"))
    found = []
    for li in lines[start + 1 :]:
        if not li.startswith("• #"):
            break
        found.append(li.split(" · ")[0][2:])
    return found


def test_done_items_are_listed_in_the_period_they_were_done_in_and_not_in_the_next(
    dialog: Dialog,
) -> None:
    first_quarter(dialog)
    january = dialog.text(COORDINATOR, "!bericht Januar 2026")
    february = dialog.text(COORDINATOR, "!bericht Februar 2026")
    march = dialog.text(COORDINATOR, "!bericht März 2026")
    april = dialog.text(COORDINATOR, "!bericht April 2026")
    school = [body.split("Schulausschuss\n")[1] for body in (january, february, march, april)]
    assert done_entries(school[0]) == ["#3 Einladung zum Fachtag verschicken"]
    assert done_entries(school[1]) == []
    assert done_entries(school[2]) == ["#4 Elternbrief abstimmen"]
    assert done_entries(school[3]) == []
    # Done on time in January: gone from every later report.
    for body in (february, march, april):
        assert "Einladung zum Fachtag" not in body
    # Due in February and overdue since: followed up month by month until done.
    for body in (february, march, april):
        assert "#1 Zahlen an das Landesamt melden · Jugendamt · Frist 15.02.2026 · überfällig" in (
            body
        )


def test_an_item_done_late_is_due_in_its_period_and_done_in_the_next(dialog: Dialog) -> None:
    dialog.now = dt.datetime(2026, 1, 10, 10, tzinfo=BERLIN)
    dialog.say(ANNA, "!verabredung Haushaltsanmeldung abgeben bis 30.1.")
    dialog.now = dt.datetime(2026, 2, 3, 10, tzinfo=BERLIN)
    dialog.say(ANNA, "!grund 1 Freigabe der Amtsleitung fehlte")
    dialog.say(ANNA, "!erledigt 1")
    dialog.now = dt.datetime(2026, 3, 2, 10, tzinfo=BERLIN)
    january = dialog.text(COORDINATOR, "!bericht Januar 2026")
    assert (
        "• #1 Haushaltsanmeldung abgeben · Amt nicht angegeben · Frist 30.01.2026 · "
        "erledigt am 03.02.2026, nach Fristende · Grund: Freigabe der Amtsleitung fehlte"
    ) in january
    assert done_entries(january) == []
    february = dialog.text(COORDINATOR, "!bericht Februar 2026")
    assert done_entries(february) == ["#1 Haushaltsanmeldung abgeben"]
    assert "Im Zeitraum fällig oder überfällig: keine" in february


# ------------------------------------------------------------ pulse and the evaluation


def february(dialog: Dialog) -> Dialog:
    """Two committees' February: recorded, done on time, done late, still open."""
    dialog.now = dt.datetime(2026, 2, 2, 10, tzinfo=BERLIN)
    jugend = Dialog(dialog.database, room_id=JUGEND, now=dialog.now, _ids=itertools.count(1000))
    dialog.say(ANNA, "!verabredung Bericht an Schulamt @ben bis 10.2.", mentions=(BEN,))
    dialog.say(ANNA, "!verabredung Einladung Fachtag bis 5.2.")
    dialog.say(ANNA, "!verabredung Schulentwicklungsplanung fortschreiben bis 27.2.")
    jugend.say(CARLA, "!verabredung Fortschreibung der Schulentwicklungsplanung bis 20.3.")
    with dialog.database.session() as s:
        rooms.remember_name(s, ROOM, "Schulausschuss")
        rooms.remember_name(s, JUGEND, "Jugendhilfeausschuss")
    dialog.now = dt.datetime(2026, 2, 9, 10, tzinfo=BERLIN)
    dialog.say(CHAIR, "!sitzung start Februarsitzung")
    dialog.say(BEN, "!erledigt 1")
    dialog.say(ANNA, "!erledigt 2")
    _pulse(dialog, ("4", "5", "3"))  # mean 4.0, three answers: counted
    _pulse(dialog, ("1", "1"))  # two answers: never shown, not counted
    dialog.say(CHAIR, "!sitzung ende")
    dialog.now = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
    return jugend


def _pulse(dialog: Dialog, answers: tuple[str, ...]) -> None:
    """A pulse in the room, answered and closed at once."""
    [start, _confirmation] = dialog.say(CHAIR, "!puls")
    for who, value in zip((ANNA, BEN, CARLA), answers, strict=False):
        dialog.answer_poll(who, start.event_id, (value,))
    dialog.say(CHAIR, "!schließen")


def test_meetings_pulse_and_duplicate_work_per_committee(dialog: Dialog) -> None:
    february(dialog)
    body = dialog.text(COORDINATOR, "!bericht")
    school = body.split("\nSchulausschuss\n")[1]
    assert "• Sitzungen im Zeitraum: 1" in school
    # The pulse with two answers is left out: one pulse, mean 4.0.
    assert "• Zufriedenheit (Puls, 1–5): Mittelwert 4,0 aus 1 Puls (kein Vergleichswert)" in school
    youth = body.split("\nJugendhilfeausschuss\n")[1].split("\n\n")[0]
    assert "• Sitzungen im Zeitraum: 0" in youth
    assert "• Zufriedenheit (Puls): kein Puls mit mindestens 3 Stimmen" in youth
    assert body.endswith(
        "Mögliche Doppelstrukturen\n"
        "• Schulausschuss #3 „Schulentwicklungsplanung fortschreiben“ ↔ Jugendhilfeausschuss "
        "#1 „Fortschreibung der Schulentwicklungsplanung“ (Ähnlichkeit 100 %)"
    )


def test_the_pulse_trend_names_the_earlier_value_and_which_way_it_went(dialog: Dialog) -> None:
    """Not "↑ 4,0", which reads like a rise of 4.0: the earlier mean with its label."""
    february(dialog)
    dialog.now = dt.datetime(2026, 3, 16, 10, tzinfo=BERLIN)
    _pulse(dialog, ("5", "5", "5"))
    dialog.now = dt.datetime(2026, 4, 2, 10, tzinfo=BERLIN)
    body = dialog.text(COORDINATOR, "!bericht März")
    assert (
        "Zufriedenheit (Puls, 1–5): Mittelwert 5,0 aus 1 Puls (Vorzeitraum: 4,0 – gestiegen)"
        in (body)
    )
    assert "↑" not in body
    dialog.say(CHAIR, "!einstellungen sprache en")
    body = dialog.text(COORDINATOR, "!report March")
    assert "Satisfaction (pulse, 1–5): mean 5.0 from 1 pulse (previous period: 4.0 – up)" in body


def test_the_evaluations_participation_is_shown_from_three_participants(dialog: Dialog) -> None:
    february(dialog)
    with dialog.database.session() as s:
        seed.survey(s, ROOM, 2026, invited=12, participants=8)
        seed.survey(s, JUGEND, 2026, invited=9, participants=2)
    dialog.now = dt.datetime(2026, 12, 1, 10, tzinfo=BERLIN)
    body = dialog.text(COORDINATOR, "!bericht November")
    school = body.split("\nSchulausschuss\n")[1]
    assert "• Evaluation 2026: 8 von 12 Eingeladenen haben teilgenommen (67 %)" in school
    # Two participants are too few to say even how many.
    assert body.count("Evaluation 2026") == 1
    paper = dialog.text(COORDINATOR, "!bericht vorlage November")
    assert "Evaluation 2026: 8 von 12 Eingeladenen haben teilgenommen (67 %)." in paper
    # Not in a report of another year.
    assert "Evaluation" not in dialog.text(COORDINATOR, "!bericht 2025")


# --------------------------------------------------------------------------- at size


def test_a_report_too_long_for_the_chat_lists_fewer_items_and_says_so(dialog: Dialog) -> None:
    with dialog.database.session() as s:
        seed.room(s, ROOM, name="Schulausschuss")
        for n in range(700):
            seed.agreement(
                s,
                ROOM,
                f"Maßnahme {n} aus dem Handlungskonzept Bildung umsetzen und dokumentieren",
                by=CHAIR,
                at=dt.datetime(2026, 1, 5, 9, tzinfo=BERLIN),
                owners=[ANNA],
                due=dt.date(2026, 2, 1) + dt.timedelta(days=n % 20),
            )
    replies = dialog.say(COORDINATOR, "!bericht Februar")
    assert len(replies) <= MAX_PARTS
    body = "\n".join(r.body for r in replies)
    assert "Im Zeitraum fällig oder überfällig: 700" in body
    assert body.count("Maßnahme ") == 50
    assert "• … und 650 weitere." in body
    assert "Gekürzt: je Gremium und Liste höchstens 50 Einträge." in body
    assert "• 0 von 700 im Zeitraum fälligen fristgerecht erledigt (0 %)" in body


# ----------------------------------------------------------------------- the monthly post


def env(zone: str = "Europe/Berlin", **settings: object) -> TimerEnv:
    report = ReportSettings(**{"room": LEITUNG, "day": 1, "hour": 8, **settings})  # type: ignore[arg-type]
    return TimerEnv(defaults=Defaults(timezone=zone, features={"report": report}))


def running_since(db: Database, day: dt.date) -> None:
    """The bot's scheduler first ran then: no report owed from before is posted."""
    with db.session() as s:
        lease.ensure_epoch(s, dt.datetime.combine(day, dt.time(12), BERLIN))


def tick(db: Database, at: dt.datetime, environment: TimerEnv) -> dt.datetime | None:
    """One wake-up of the scheduler: the timers run and queue what they owe (not the
    reminders', which have tests of their own)."""
    timers = [t for t in REGISTRY.timers if t.name != "reminders"]
    with db.session() as s:
        return run_timers(s, at, environment, timers).next_at


def reports_sent(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        rows = s.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.room_id) == LEITUNG)
            .order_by(col(OutboxMessage.id))
        )
        return [(r.txn_id, json.loads(r.content)["body"].splitlines()[0]) for r in rows]


def test_the_monthly_report_is_posted_once_at_its_hour_across_a_restart(
    dialog: Dialog,
) -> None:
    february(dialog)
    db = dialog.database
    running_since(db, dt.date(2026, 2, 1))
    environment = env()
    before = dt.datetime(2026, 3, 1, 7, 59, tzinfo=BERLIN)
    assert tick(db, before, environment) == dt.datetime(2026, 3, 1, 8, tzinfo=BERLIN)
    assert reports_sent(db) == []
    at_eight = dt.datetime(2026, 3, 1, 8, tzinfo=BERLIN)
    assert tick(db, at_eight, environment) == dt.datetime(2026, 4, 1, 8, tzinfo=BERLIN)
    # The bot restarts and wakes again the same morning: nothing twice.
    tick(db, at_eight, environment)
    tick(db, at_eight + dt.timedelta(hours=3), environment)
    [(_, title)] = reports_sent(db)
    assert title == "Beschlusskontrolle: Februar 2026"
    tick(db, dt.datetime(2026, 4, 1, 8, tzinfo=BERLIN), environment)
    assert [t for _, t in reports_sent(db)] == [
        "Beschlusskontrolle: Februar 2026",
        "Beschlusskontrolle: März 2026",
    ]
    # The leadership's room is no committee of the report.
    with db.session() as s:
        rooms.ensure_room(s, LEITUNG, joined_at=at_eight)
    tick(db, dt.datetime(2026, 5, 1, 8, tzinfo=BERLIN), environment)
    assert "Stand Fr., 1. Mai 2026 · 2 Gremien." in last_body(db)


def last_body(db: Database) -> str:
    with db.session() as s:
        row = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc())).first()
        assert row is not None
        return str(json.loads(row.content)["body"])


def test_a_report_missed_while_the_bot_was_down_is_posted_once_after(dialog: Dialog) -> None:
    db = dialog.database
    dialog.say(ANNA, "!hilfe")
    environment = env(day=31, hour=23)
    # Down from before the 31st of March, 23:00 until the 1st of April.
    tick(db, dt.datetime(2026, 4, 1, 0, 30, tzinfo=BERLIN), environment)
    tick(db, dt.datetime(2026, 4, 2, 9, 0, tzinfo=BERLIN), environment)
    assert [t for _, t in reports_sent(db)] == ["Beschlusskontrolle: Februar 2026"]
    # April has 30 days: its report comes on the 30th.
    assert tick(db, dt.datetime(2026, 4, 3, tzinfo=BERLIN), environment) == dt.datetime(
        2026, 4, 30, 23, tzinfo=BERLIN
    )


def test_the_hour_is_the_configured_time_zones(dialog: Dialog) -> None:
    db = dialog.database
    dialog.say(ANNA, "!hilfe")
    running_since(db, dt.date(2026, 2, 15))
    environment = env(zone="America/New_York", hour=8)
    new_york = ZoneInfo("America/New_York")
    # 8:00 in Berlin is 2:00 in New York: not yet.
    tick(db, dt.datetime(2026, 3, 1, 8, tzinfo=BERLIN), environment)
    assert reports_sent(db) == []
    assert tick(db, dt.datetime(2026, 3, 1, 8, tzinfo=new_york), environment) == dt.datetime(
        2026, 4, 1, 8, tzinfo=new_york
    )
    assert len(reports_sent(db)) == 1


def test_no_report_room_no_monthly_post_and_none_from_before_the_bot_ran(
    dialog: Dialog,
) -> None:
    db = dialog.database
    dialog.say(ANNA, "!hilfe")
    off = TimerEnv(defaults=Defaults(features={"report": ReportSettings()}))
    assert tick(db, dt.datetime(2026, 3, 1, 9, tzinfo=BERLIN), off) is None
    running_since(db, dt.date(2026, 3, 5))
    tick(db, dt.datetime(2026, 3, 5, 12, tzinfo=BERLIN), env())
    assert reports_sent(db) == []
