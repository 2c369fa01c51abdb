"""`!grund` / `!reason`: the owners say in one line why an agreement is late. They are asked
once, with the first overdue reminder; the reason stands in `!zeige`, the minutes and the
follow-up agenda, and an overdue item without one says so.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin; `bis Freitag` is 13 March.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from sqlmodel import select

from commands.exports.run import FORMATS, export, make_scope
from commands.reminders.plan import Due
from storage.models import Agreement, AgreementHistory, HistoryAction
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, Dialog
from tests.unit.reminder_helpers import add_agreement, env_for, fire

LATE = dt.datetime(2026, 3, 16, 10, 0, tzinfo=BERLIN)  # #1 is overdue since Friday


@pytest.fixture
def room(dialog: Dialog) -> Dialog:
    """Carla recorded #1 for Ben, due Friday 13 March; #2 is Anna's own, without a date."""
    dialog.say(CARLA, "!verabredung Zahlen an das Landesamt @ben bis Freitag", mentions=(BEN,))
    dialog.say(ANNA, "!verabredung Raum buchen")
    return dialog


def agreement(dialog: Dialog, number: int) -> Agreement:
    with dialog.database.session() as s:
        found = s.exec(select(Agreement).where(Agreement.number == number)).one()
        s.expunge(found)
        return found


def reasons_in_history(dialog: Dialog, number: int) -> list[tuple[str | None, str | None]]:
    a = agreement(dialog, number)
    with dialog.database.session() as s:
        rows = s.exec(
            select(AgreementHistory)
            .where(
                AgreementHistory.agreement_id == a.id,
                AgreementHistory.action == HistoryAction.REASON,
            )
            .order_by(AgreementHistory.id)  # type: ignore[arg-type]
        )
        return [(h.old_value, h.note) for h in rows]


# ----------------------------------------------------------------------- giving one


def test_the_owner_gives_a_reason_and_show_lists_it_with_the_history(room: Dialog) -> None:
    room.now = LATE
    answer = room.text(BEN, "!grund 1 Zahlen des Landesamts kommen erst im Januar")
    assert answer.splitlines() == [
        "Grund der Verzögerung bei #1 gespeichert: „Zahlen des Landesamts kommen erst im "
        "Januar“. Er steht bei `!zeige 1`, im Protokoll und im Bericht an die Leitung.",
        "Steht ein neuer Termin fest? `!frist 1 nächsten Freitag` setzt die Frist neu.",
    ]
    shown = room.text(ANNA, "!zeige 1")
    assert "Status: offen – überfällig" in shown
    assert "Grund der Verzögerung: Zahlen des Landesamts kommen erst im Januar" in shown
    assert (
        "Ben Okafor: Grund der Verzögerung genannt – „Zahlen des Landesamts kommen erst im "
        "Januar“" in shown
    )
    a = agreement(room, 1)
    assert a.delay_reason == "Zahlen des Landesamts kommen erst im Januar"
    assert a.delay_reason_at == LATE


def test_a_new_reason_replaces_the_old_and_the_history_keeps_both(room: Dialog) -> None:
    room.say(BEN, "!grund 1 Landesamt verspätet")
    room.say(BEN, "!grund 1 Landesamt liefert erst im Januar")
    assert agreement(room, 1).delay_reason == "Landesamt liefert erst im Januar"
    assert reasons_in_history(room, 1) == [
        (None, "Landesamt verspätet"),
        ("Landesamt verspätet", "Landesamt liefert erst im Januar"),
    ]
    assert room.text(BEN, "!grund 1 Landesamt  liefert erst im Januar") == (
        "Diesen Grund hat #1 schon."
    )
    assert len(reasons_in_history(room, 1)) == 2


def test_grund_without_text_shows_the_reason_or_that_there_is_none(room: Dialog) -> None:
    assert room.text(ANNA, "!grund 1").splitlines() == [
        "Für #1 ist kein Grund für eine Verzögerung genannt.",
        "Die Verantwortlichen nennen ihn in einer Zeile, z. B. `!grund 1 Zahlen des Landesamts "
        "kommen erst im Januar`",
    ]
    room.say(BEN, "!grund 1 Personalausfall")
    assert room.text(ANNA, "!grund 1") == (
        "Grund der Verzögerung bei #1: „Personalausfall“ (genannt von Ben Okafor am "
        "Mo., 9. März 2026)."
    )


@pytest.mark.parametrize("who", [CHAIR, COORDINATOR])
def test_chair_and_coordination_may_give_the_reason(room: Dialog, who: str) -> None:
    assert "gespeichert" in room.text(who, "!grund 1 Landesamt im Verzug")
    assert agreement(room, 1).delay_reason == "Landesamt im Verzug"


def test_without_owners_whoever_recorded_it_gives_the_reason(room: Dialog) -> None:
    # An agreement without owners (an older version recorded such): its reminders go to
    # whoever recorded it, so that person is asked and may answer.
    add_agreement(
        room.database, number=3, text="Bericht", due=dt.date(2026, 3, 13), created_by=CARLA
    )
    refused = room.text(ANNA, "!grund 3 Urlaub")
    assert refused.startswith(
        "Den Grund einer Verzögerung bei #3 nennen nur die Verantwortlichen (Carla Weber)"
    )
    assert "gespeichert" in room.text(CARLA, "!grund 3 Urlaub")
    assert agreement(room, 3).delay_reason == "Urlaub"


def test_english_names_and_texts(room: Dialog) -> None:
    room.say(CHAIR, "!einstellungen sprache en")
    room.now = LATE
    answer = room.text(BEN, "!reason 1 figures arrive in January")
    assert answer.startswith("Reason for the delay of #1 saved: “figures arrive in January”.")
    assert "Reason for the delay: figures arrive in January" in room.text(ANNA, "!show 1")
    assert "reason for the delay given – “figures arrive in January”" in room.text(ANNA, "!show 1")
    refused = room.text(ANNA, "!reason 1 no idea")
    assert refused.startswith("Only the owners of #1 (Ben Okafor), the chair and the coordinat")


# ------------------------------------------------------------------------- refusals


def test_someone_who_neither_owns_it_nor_chairs_may_not_give_the_reason(room: Dialog) -> None:
    # Carla recorded #1 for Ben: the reason is Ben's to give.
    for who in (ANNA, CARLA):
        answer = room.text(who, "!grund 1 keine Ahnung")
        assert answer.startswith(
            "Den Grund einer Verzögerung bei #1 nennen nur die Verantwortlichen (Ben Okafor), "
            "der Vorsitz und die Koordination. Ich habe nichts gespeichert."
        )
    assert agreement(room, 1).delay_reason is None


def test_done_cancelled_and_unknown_agreements_take_no_reason(room: Dialog) -> None:
    room.say(ANNA, "!erledigt 2")
    assert room.text(ANNA, "!grund 2 zu spät") == (
        "#2 ist erledigt – ein Grund für eine Verzögerung ist nicht mehr nötig. Ich habe "
        "nichts gespeichert."
    )
    room.say(BEN, "!verwerfen 1")
    assert room.text(BEN, "!grund 1 zu spät").startswith("#1 ist verworfen – ein Grund")
    assert room.text(BEN, "!grund 9 zu spät") == (
        "In diesem Raum gibt es keine Verabredung #9. `!liste alle` zeigt alle."
    )
    assert agreement(room, 1).delay_reason is None
    assert agreement(room, 2).delay_reason is None


def test_a_reason_is_one_line_of_words_not_too_long(room: Dialog) -> None:
    assert room.text(BEN, "!grund 1 Landesamt\nund Kämmerei") == (
        "Bitte den Grund in einer Zeile schreiben, z. B. `!grund 1 Zahlen des Landesamts kommen "
        "erst im Januar`. Ich habe nichts gespeichert."
    )
    assert room.text(BEN, "!grund 1 " + "x" * 301) == (
        "Der Grund ist zu lang (301 Zeichen, höchstens 300): bitte in einer kurzen Zeile. Ich "
        "habe nichts gespeichert."
    )
    # The reminder's "`!grund 1 …`" copied as it stands.
    assert room.text(BEN, "!grund 1 …") == (
        "Bitte den Grund in Worten schreiben, z. B. `!grund 1 Zahlen des Landesamts kommen erst "
        "im Januar`. Ich habe nichts gespeichert."
    )
    assert agreement(room, 1).delay_reason is None
    assert "gespeichert" in room.text(BEN, "!grund 1 " + "x" * 300)


def test_grund_needs_a_number_or_a_reply(room: Dialog) -> None:
    answer = room.text(BEN, "!grund")
    assert answer.startswith("Welche Verabredung? Bitte die Nummer nennen")


# ------------------------------------------------------------------------ !zeige


def test_an_overdue_item_without_a_reason_says_so_in_show(room: Dialog) -> None:
    assert "Grund der Verzögerung" not in room.text(ANNA, "!zeige 1")  # not late yet
    room.now = LATE
    assert "Grund der Verzögerung: kein Grund genannt (`!grund 1 …`)" in room.text(ANNA, "!zeige 1")
    # A reason given stays readable once the agreement is done.
    room.say(BEN, "!grund 1 Landesamt spät")
    room.say(BEN, "!erledigt 1")
    assert "Grund der Verzögerung: Landesamt spät" in room.text(ANNA, "!zeige 1")


# ----------------------------------------------------------------------- the ask


def _overdue(dues: list[Due], agreement_id: int) -> list[Due]:
    return [d for d in dues if d.agreement_id == agreement_id and d.kind == "overdue"]


def at(m: int, d: int, hh: int = 9) -> dt.datetime:
    return dt.datetime(2026, m, d, hh, 0, tzinfo=BERLIN)


ASK = "Verzögert es sich? Bitte nennen Sie kurz den Grund, in einer Zeile: `!grund 1 …`"


def test_the_first_overdue_reminder_asks_once_for_the_reason(room: Dialog) -> None:
    env = env_for(room)
    a = agreement(room, 1)
    assert a.id is not None
    bodies = []
    for moment in (at(3, 11), at(3, 13), at(3, 20), at(3, 27), at(4, 7)):
        for due in [d for d in fire(room.database, moment, env).due if d.agreement_id == a.id]:
            assert due.reply is not None
            bodies.append((due.kind, due.reply.body))
    assert [kind for kind, _ in bodies] == ["before", "due", "overdue", "overdue", "overdue"]
    asked = [kind for kind, body in bodies if ASK in body]
    assert asked == ["overdue"]
    assert ASK in bodies[2][1]
    assert "im Protokoll und im Bericht an die Leitung" in bodies[2][1]


def test_no_ask_when_a_reason_is_given_already(room: Dialog) -> None:
    room.say(BEN, "!grund 1 Landesamt liefert erst im April")
    env = env_for(room)
    a = agreement(room, 1)
    assert a.id is not None
    [first] = _overdue(fire(room.database, at(3, 20), env).due, a.id)
    assert first.reply is not None
    assert "Überfällig seit" in first.reply.body
    assert "!grund" not in first.reply.body


def test_the_owner_answers_the_reminder_with_grund_and_no_number(room: Dialog) -> None:
    env = env_for(room)
    a = agreement(room, 1)
    assert a.id is not None
    fire(room.database, at(3, 20), env)
    room.now = at(3, 20, 10)
    answer = room.text(BEN, "!grund Zahlen kommen erst im April", ref=("agreement", a.id))
    assert answer.startswith("Grund der Verzögerung bei #1 gespeichert: „Zahlen kommen erst")
    # The next overdue reminder neither asks again nor loses the reason.
    [second] = _overdue(fire(room.database, at(3, 27), env).due, a.id)
    assert second.reply is not None
    assert "!grund" not in second.reply.body
    assert agreement(room, 1).delay_reason == "Zahlen kommen erst im April"


def test_an_english_room_is_asked_in_english(room: Dialog) -> None:
    room.say(CHAIR, "!einstellungen sprache en")
    env = env_for(room)
    a = agreement(room, 1)
    assert a.id is not None
    [first] = _overdue(fire(room.database, at(3, 20), env).due, a.id)
    assert first.reply is not None
    assert "Delayed? Please give the reason briefly, in one line: `!reason 1 …`" in (
        first.reply.body
    )


# ---------------------------------------------------------------------- minutes


def test_the_minutes_list_overdue_items_with_their_reason_or_none(room: Dialog) -> None:
    room.say(ANNA, "!verabredung Flyer drucken bis Mittwoch")  # #3, due 11 March
    room.now = LATE
    room.say(CHAIR, "!sitzung start Frühjahr")
    room.say(BEN, "!grund 1 Landesamt liefert erst im Januar")
    minutes = room.text(CHAIR, "!sitzung ende")
    lines = minutes.splitlines()
    start = lines.index("Überfällig zum Sitzungsende (2):")
    assert lines[start + 1 : start + 3] == [
        "• #3 „Flyer drucken“ – Frist: Mi., 11. März 2026 – kein Grund genannt",
        "• #1 „Zahlen an das Landesamt“ – Frist: Fr., 13. März 2026 – Grund: Landesamt "
        "liefert erst im Januar",
    ]
    # The reason given during the meeting is a change of #1 in the minutes, too.
    assert "• #1 „Zahlen an das Landesamt“ (Grund der Verzögerung genannt)" in lines
    assert room.text(ANNA, "!sitzung protokoll 1") == minutes


# ------------------------------------------------------------------------ exports


def _exported_csv(dialog: Dialog, lang: str, offices: dict[str, str]) -> list[dict[str, str]]:
    scope = make_scope(
        room_ids=None, period=None, lang=lang, tz=BERLIN, now=dialog.now, offices=offices
    )
    out = io.BytesIO()
    with dialog.database.session() as s:
        export(s, FORMATS["csv"], scope, out)
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    name = "verabredungen.csv" if lang == "de" else "agreements.csv"
    rows = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_exports_hold_the_reason_and_the_owners_offices(room: Dialog) -> None:
    room.say(CHAIR, "!zuweisen 1 @ben:example.org @anna:example.org", mentions=(BEN, ANNA))
    room.say(BEN, "!amt Kämmerei")
    room.now = LATE
    room.say(BEN, "!grund 1 Landesamt liefert erst im Januar")
    # Anna's office comes from the config; Ben's own `!amt` wins over his there.
    configured = {ANNA: "Amt 40 – Schulverwaltung", BEN: "Amt 20 – Finanzen"}
    first, second = _exported_csv(room, "de", configured)
    assert first["Nummer"] == "1"
    assert first["Status"] == "überfällig"
    assert first["Amt"] == "Kämmerei, Amt 40 – Schulverwaltung"
    assert first["Grund der Verzögerung"] == "Landesamt liefert erst im Januar"
    assert (second["Amt"], second["Grund der Verzögerung"]) == ("Amt 40 – Schulverwaltung", "")
    [english] = [r for r in _exported_csv(room, "en", {}) if r["Number"] == "1"]
    assert english["Office"] == "Kämmerei"
    assert english["Reason for the delay"] == "Landesamt liefert erst im Januar"
