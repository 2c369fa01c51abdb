"""Agenda requests (`!top`) until the rules' cutoff before the next planned meeting, and
the draft agenda (`!tagesordnung`) in the standing order: opening and quorum, approval of
the minutes with objections, the report on the agreements, the items asked for, failed
circulations, any other business.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from commands.core.defaults import Defaults
from storage import decisions
from storage.models import AgendaRequest, Decision, DecisionKind, DecisionOutcome
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, Dialog


def at(dialog: Dialog, day: int, month: int, hour: int = 10) -> None:
    dialog.now = dt.datetime(2026, month, day, hour, 0, tzinfo=BERLIN)


def failed_circulation(dialog: Dialog, motion: str) -> None:
    """A circulation that ended by an objection, put on the next agenda (as `!umlauf`
    does when a member objects to the procedure)."""
    with dialog.database.session() as s:
        decision, _ = decisions.create(
            s,
            Decision(
                room_id=dialog.room_id,
                kind=DecisionKind.CIRCULATION,
                outcome=DecisionOutcome.OBJECTION,
                text=motion,
                created_by=CHAIR,
                created_at=dialog.now,
                decided_at=dialog.now,
                source_event_id="$umlauf-1",
            ),
        )
        decisions.put_on_agenda(s, decision, at=dialog.now, key="circulation-agenda:1")


def test_an_item_before_the_cutoff_goes_on_the_next_meetings_draft(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan am 14.4. 16 Uhr")
    answer = dialog.text(ANNA, "!top Haushalt 2027")
    assert answer == (
        "📌 Für die Sitzung am Di., 14. April 2026, 16:00 Uhr vorgemerkt: „Haushalt 2027“. "
        "Anmeldeschluss: Di., 31. März 2026. Den Entwurf der Tagesordnung zeigt `!tagesordnung`."
    )
    draft = dialog.text(BEN, "!tagesordnung")
    assert "„Haushalt 2027“ (angemeldet von Anna Schmidt)" in draft
    assert draft.endswith(
        "Weitere Punkte anmelden mit `!top <Thema>` bis Di., 31. März 2026 "
        "(Geschäftsordnung: 14 Tage vor der Sitzung)."
    )


def test_an_item_after_the_cutoff_is_noted_for_the_meeting_after(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan jeden zweiten Dienstag im Monat 16 Uhr")
    dialog.say(CHAIR, "!geschäftsordnung setze tagesordnung anmeldung 10 tage")
    at(dialog, 3, 4)  # Friday, 3 April: the April meeting's cutoff (4 April) is ahead
    assert "Für die Sitzung am Di., 14. April 2026, 16:00 Uhr vorgemerkt" in dialog.text(
        ANNA, "!top Ganztag"
    )
    at(dialog, 5, 4)  # Sunday, 5 April: a day after it
    answer = dialog.text(CARLA, "!top Schulwegsicherung")
    assert answer == (
        "Zu spät für die Sitzung am Di., 14. April 2026, 16:00 Uhr: Punkte mussten bis "
        "Sa., 4. April 2026 angemeldet sein (Geschäftsordnung: 10 Tage vor der Sitzung). "
        "Vorgemerkt für die nächste Sitzung am Di., 12. Mai 2026, 16:00 Uhr: "
        "„Schulwegsicherung“."
    )
    april = dialog.text(BEN, "!tagesordnung")
    assert "„Ganztag“" in april
    assert "Schulwegsicherung" not in april
    assert "Anmeldeschluss war Sa., 4. April 2026" in april

    # The April meeting takes up its items; the May draft has Carla's.
    at(dialog, 14, 4, 16)
    dialog.say(CHAIR, "!sitzung start")
    at(dialog, 14, 4, 18)
    dialog.say(CHAIR, "!sitzung ende")
    may = dialog.text(BEN, "!tagesordnung")
    assert may.startswith("📋 Tagesordnung (Entwurf) – Sitzung am Di., 12. Mai 2026, 16:00 Uhr")
    assert "„Schulwegsicherung“ (angemeldet von Carla Weber)" in may
    assert "Ganztag" not in may


def test_the_draft_agenda_follows_the_standing_order(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan am 14.4. 16 Uhr")
    # A meeting whose minutes Ben objects to, agreements (one overdue), two items and a
    # circulation that failed by an objection.
    dialog.say(CHAIR, "!sitzung start Märzsitzung")
    dialog.say(CHAIR, "!verabredung Raum buchen bis 20.3.")
    dialog.say(CHAIR, "!verabredung Elternbrief entwerfen")
    dialog.now += dt.timedelta(hours=1)
    dialog.say(CHAIR, "!sitzung ende")
    dialog.say(BEN, "!einspruch 1 Der Beschluss zu TOP 3 fehlt")
    dialog.say(ANNA, "!top Haushalt 2027")
    dialog.say(BEN, "!top Fachtag <Inklusion>")
    failed_circulation(dialog, "Zuschuss für das Sommerfest")
    at(dialog, 25, 3)
    draft = dialog.text(CARLA, "!tagesordnung")
    assert draft.split("\n") == [
        "📋 Tagesordnung (Entwurf) – Sitzung am Di., 14. April 2026, 16:00 Uhr",
        "1. Eröffnung und Feststellung der ordnungsgemäßen Einladung und der Beschlussfähigkeit",
        "2. Genehmigung des Protokolls der letzten Sitzung",
        "   – Sitzung #1 vom Mo., 9. März 2026: Einspruchsfrist bis Mo., 23. März 2026 – "
        "ein Einspruch",
        "   – Einspruch von Ben Okafor: „Der Beschluss zu TOP 3 fehlt“",
        "3. Bericht zu den Verabredungen: 2 offen, davon eine überfällig",
        "4. „Haushalt 2027“ (angemeldet von Anna Schmidt)",
        "5. „Fachtag <Inklusion>“ (angemeldet von Ben Okafor)",
        "6. „Zuschuss für das Sommerfest“ – Umlaufverfahren: nicht zustande gekommen – Widerspruch",
        "7. Verschiedenes",
        "Weitere Punkte anmelden mit `!top <Thema>` bis Di., 31. März 2026 "
        "(Geschäftsordnung: 14 Tage vor der Sitzung).",
    ]
    [shown] = dialog.say(CARLA, "!tagesordnung")
    assert "„Fachtag &lt;Inklusion&gt;“" in shown.html


def test_a_meeting_takes_up_only_what_was_asked_for_before_it_began(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!sitzung plan am 14.4. 16 Uhr")
    failed_circulation(dialog, "Zuschuss für das Sommerfest")
    dialog.say(ANNA, "!top Haushalt 2027")
    at(dialog, 14, 4, 16)
    dialog.say(CHAIR, "!sitzung start")
    # Asked for during the meeting: for the next one (none planned after it).
    assert "Es ist noch keine Sitzung geplant" in dialog.text(BEN, "!top Nachlese")
    at(dialog, 14, 4, 18)
    dialog.say(CHAIR, "!sitzung ende")
    with dialog.database.session() as s:
        done = {r.text: r.done_at is not None for r in s.exec(select(AgendaRequest))}
    assert done == {"Zuschuss für das Sommerfest": True, "Haushalt 2027": True, "Nachlese": False}
    draft = dialog.text(ANNA, "!tagesordnung")
    assert draft.startswith(
        "📋 Tagesordnung (Entwurf) – nächste Sitzung (noch kein Termin geplant)"
    )
    assert "4. „Nachlese“ (angemeldet von Ben Okafor)\n5. Verschiedenes" in draft
    assert draft.endswith("Punkte anmelden mit `!top <Thema>`.")


def test_bad_requests_are_refused_and_store_nothing(dialog: Dialog) -> None:
    missing = dialog.text(ANNA, "!top")
    assert "Welches Thema soll auf die Tagesordnung? Zum Beispiel `!top Haushalt 2027`." in missing
    too_long = dialog.text(ANNA, "!top " + "x" * 301)
    assert "zu lang für diesen Befehl (301 Zeichen, höchstens 300)" in too_long
    assert "keine weiteren Angaben" in dialog.text(ANNA, "!tagesordnung morgen")
    with dialog.database.session() as s:
        assert list(s.exec(select(AgendaRequest))) == []


def test_english_items_and_agenda(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    room.say(CHAIR, "!meeting plan 14.4. 4pm")
    answer = room.text(ANNA, "!item Budget 2027")
    assert answer.startswith(
        "📌 Noted for the meeting on Tue, 14 April 2026, 16:00: “Budget 2027”."
    )
    draft = room.text(BEN, "!agenda")
    assert draft.split("\n")[:6] == [
        "📋 Draft agenda – meeting on Tue, 14 April 2026, 16:00",
        "1. Opening; establishing that the meeting was duly called and is quorate",
        "2. Approval of the minutes of the last meeting – none (no meeting yet)",
        "3. Report on the agreements: none open",
        "4. “Budget 2027” (asked for by Anna Schmidt)",
        "5. Any other business",
    ]
