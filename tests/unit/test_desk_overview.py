"""`!übersicht` / `!overview`: the coordination sees every committee and possible duplicate work."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random

from sqlalchemy import insert
from sqlmodel import select

from bot.runtime.limits import CONTENT_BUDGET, MAX_PARTS
from commands.core import i18n
from commands.core.defaults import Defaults
from commands.desk.settings import OverviewSettings
from storage import rooms
from storage.db import Database
from storage.models import Agreement, AgreementOwner, AgreementStatus
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, ROOM, Dialog

JUGEND = "!jugendhilfe:example.org"
STEUER = "!steuerung:example.org"


def committee(dialog: Dialog, room_id: str, name: str, start: int) -> Dialog:
    """Another committee room on the same database, with its name."""
    other = Dialog(dialog.database, room_id=room_id, _ids=itertools.count(start))
    other.say(ANNA, "!hilfe")  # the bot is in the room
    with dialog.database.session() as s:
        rooms.remember_name(s, room_id, name)
    return other


def three_committees(dialog: Dialog) -> tuple[Dialog, Dialog]:
    dialog.say(CARLA, "!hilfe")
    with dialog.database.session() as s:
        rooms.remember_name(s, ROOM, "Schulausschuss")
    jugend = committee(dialog, JUGEND, "Jugendhilfeausschuss", 1000)
    steuer = committee(dialog, STEUER, "Steuerungsgruppe <Bildung>", 2000)
    dialog.say(ANNA, "!verabredung Schulentwicklungsplanung fortschreiben @ben bis 20.3.")
    dialog.say(ANNA, "!verabredung Kita-Bedarfsplanung vorlegen bis 20.4.")
    jugend.say(BEN, "!verabredung Fortschreibung der Schulentwicklungsplanung bis 1.4.")
    jugend.say(BEN, "!verabredung Jugendhilfeplanung vorstellen @carla")
    steuer.say(CARLA, "!verabredung Bildungsbericht 2026 erstellen bis 31.3.")
    steuer.say(CARLA, "!erledigt 1")
    # Days later: #1 of the Schulausschuss is overdue.
    for d in (dialog, jugend, steuer):
        d.now += dt.timedelta(days=14)
    return jugend, steuer


def test_coordination_sees_each_committee_by_owner_and_the_alike_pair(dialog: Dialog) -> None:
    three_committees(dialog)
    [reply] = dialog.say(COORDINATOR, "!übersicht")
    body = reply.body
    assert "Übersicht über alle Gremien – Stand Mo., 23. März 2026" in body
    assert "3 Gremien, 4 offene Verabredungen, davon 1 überfällig." in body
    assert "Jugendhilfeausschuss: 2 offen, 0 überfällig – noch keine Frist abgelaufen" in body
    assert (
        "Schulausschuss: 2 offen, 1 überfällig – "
        "bisher 0 von 1 fälligen fristgerecht erledigt (0 %)"
    ) in body
    assert (
        "  Ben Okafor: #1 Schulentwicklungsplanung fortschreiben "
        "(überfällig seit Fr., 20. März 2026; kein Grund genannt)"
    ) in body
    assert "  Anna Schmidt: #2 Kita-Bedarfsplanung vorlegen (bis Mo., 20. April 2026)" in body
    assert "  Carla Weber: #2 Jugendhilfeplanung vorstellen" in body
    assert "Steuerungsgruppe <Bildung>: 0 offen, 0 überfällig" in body
    # Committees are in alphabetical order; the pairs come last.
    assert body.index("Jugendhilfeausschuss:") < body.index("Schulausschuss:")
    assert body.index("Steuerungsgruppe") < body.index("Mögliche Doppelstrukturen")
    [pair] = [line for line in body.splitlines() if "↔" in line]
    assert "Schulausschuss #1 „Schulentwicklungsplanung fortschreiben“" in pair
    assert "Jugendhilfeausschuss #1 „Fortschreibung der Schulentwicklungsplanung“" in pair
    assert "Kita" not in pair
    # Room names are user text: escaped in HTML.
    assert "Steuerungsgruppe &lt;Bildung&gt;" in reply.html
    assert "<Bildung>" not in reply.html


def test_an_overdue_agreement_shows_the_reason_its_owner_gave(dialog: Dialog) -> None:
    three_committees(dialog)
    dialog.say(BEN, "!grund 1 Die Schulstatistik liegt erst im April vor")
    body = dialog.text(COORDINATOR, "!übersicht")
    assert (
        "  Ben Okafor: #1 Schulentwicklungsplanung fortschreiben "
        "(überfällig seit Fr., 20. März 2026; Grund: Die Schulstatistik liegt erst im April vor)"
    ) in body
    # Only an overdue one says whether a reason was given.
    assert "  Anna Schmidt: #2 Kita-Bedarfsplanung vorlegen (bis Mo., 20. April 2026)" in body
    dialog.say(CHAIR, "!einstellungen sprache en")
    english = dialog.text(COORDINATOR, "!overview")
    assert "(overdue since Fri, 20 March 2026; reason: Die Schulstatistik liegt" in english
    assert "Schulausschuss: 2 open, 1 overdue – so far 0 of 1 due done on time (0 %)" in english


def test_overview_in_english_and_with_the_alias(dialog: Dialog) -> None:
    three_committees(dialog)
    dialog.say(CHAIR, "!einstellungen sprache en")
    body = dialog.text(COORDINATOR, "!overview")
    assert "Overview of all committees – as of Mon, 23 March 2026" in body
    assert "Possible duplicate work" in body
    assert "(similarity 100%)" in body
    assert dialog.text(COORDINATOR, "!uebersicht") == body


def test_a_member_or_chair_is_told_that_only_the_coordination_may(dialog: Dialog) -> None:
    three_committees(dialog)
    for who in (ANNA, "@vorsitz:example.org"):
        refusal = dialog.text(who, "!übersicht")
        assert refusal == i18n.plain("de", "permission.needs_coordination", command="!übersicht")


def test_the_threshold_comes_from_the_config(sqlite_db: Database) -> None:
    strict = Defaults(features={"overview": OverviewSettings(overlap_threshold=100)})
    loose = Defaults(features={"overview": OverviewSettings(overlap_threshold=50)})
    dialog = Dialog(sqlite_db, defaults=strict)
    jugend, _ = three_committees(dialog)
    # The same plan, another step: alike to "Kita-Bedarfsplanung vorlegen", but not the same.
    jugend.say(BEN, "!verabredung Kita-Bedarfsplanung fortschreiben")
    assert dialog.text(COORDINATOR, "!übersicht").count("↔") == 1
    dialog.defaults = loose
    assert dialog.text(COORDINATOR, "!übersicht").count("↔") > 1


def test_no_pairs_is_said_plainly(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Protokoll verschicken")
    body = dialog.text(COORDINATOR, "!übersicht")
    assert "Keine ähnlichen offenen Verabredungen in verschiedenen Gremien gefunden." in body
    assert "1 Gremium, 1 offene Verabredung, davon keine überfällig." in body


STEMS: tuple[str, ...] = ("Schul", "Kita", "Bildungs", "Sprach", "Ganztags", "Jugend")
STEMS += (
    "Eltern",
    "Berufs",
    "Lern",
    "Förder",
    "Inklusions",
    "Ferien",
    "Integrations",
    "Familien",
    "Medien",
)
HEADS: tuple[str, ...] = (
    "planung",
    "bericht",
    "konzept",
    "befragung",
    "netzwerk",
    "monitoring",
    "beratung",
)
HEADS += ("kurs", "begleitung", "sicherung", "statistik", "budget", "strategie", "konferenz")
VERBS: tuple[str, ...] = (
    "vorlegen",
    "prüfen",
    "abstimmen",
    "fortschreiben",
    "auswerten",
    "vorbereiten",
)
VERBS += ("klären", "planen", "beantragen", "vorstellen", "aktualisieren", "evaluieren")
PLACES = ("Grundschule", "Gesamtschule", "Kita", "Stadtteil", "Quartier", "Jugendzentrum")
SIDES = ("Nord", "Süd", "Ost", "West", "Mitte", "Am Park", "Lindenstraße", "Hafen", "Altstadt")


def fifty_committees(db: Database, per_room: int) -> None:
    """50 rooms with `per_room` open agreements each, texts as committees write them."""
    pick = random.Random(11).choice
    now = dt.datetime(2026, 3, 1, 9, tzinfo=BERLIN)
    rows: list[dict[str, object]] = []
    with db.session() as s:
        for r in range(50):
            room_id = f"!gremium{r:02d}:example.org"
            rooms.ensure_room(s, room_id, joined_at=now - dt.timedelta(days=365))
            rooms.remember_name(s, room_id, f"Gremium {r:02d} Bildung und Teilhabe")
            rows.extend(
                {
                    "room_id": room_id,
                    "number": n,
                    "text": f"{pick(STEMS)}{pick(HEADS)} {pick(PLACES)} {pick(SIDES)} "
                    f"mit den Beteiligten {pick(VERBS)}",
                    "status": AgreementStatus.OPEN,
                    "due_date": dt.date(2026, 1, 1) + dt.timedelta(days=n),
                    "created_by": ANNA,
                    "created_at": now,
                    "updated_at": now,
                    "source_event_id": f"$big{r}-{n}",
                }
                for n in range(1, per_room + 1)
            )
        s.execute(insert(Agreement), rows)
        s.execute(
            insert(AgreementOwner),
            [
                {"agreement_id": a.id, "user_id": f"@person{a.number % 12}:example.org"}
                for a in s.exec(select(Agreement))
            ],
        )


def test_fifty_committees_with_two_hundred_open_each_fit_the_split_limit(dialog: Dialog) -> None:
    fifty_committees(dialog.database, 200)
    parts = dialog.say(COORDINATOR, "!übersicht")
    assert 1 <= len(parts) <= 3 < MAX_PARTS
    for part in parts:
        assert len(json.dumps(part.content)) <= CONTENT_BUDGET + 500
    body = "\n".join(p.body for p in parts)
    # Each committee in one line, with its figures.
    assert "51 Gremien, 10000 offene Verabredungen" in body
    assert (
        body.count(
            ": 200 offen, 66 überfällig – bisher 0 von 66 fälligen fristgerecht erledigt (0 %)"
        )
        == 50
    )
    # Texts that differ only in the verb, in different committees.
    assert "(Ähnlichkeit 100 %)" in body
    assert "… und " in body
    assert body.rstrip().endswith("liefert `!export` als Datei.")


def test_a_few_busy_committees_are_shown_in_detail(dialog: Dialog) -> None:
    fifty_committees(dialog.database, 2)
    body = "\n".join(p.body for p in dialog.say(COORDINATOR, "!übersicht"))
    assert "person1: #1 " in body
    assert "!export" not in body
    assert "Gremium 07 Bildung und Teilhabe: 2 offen, 2 überfällig" in body
