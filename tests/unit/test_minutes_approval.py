"""Approved minutes: the minutes of `!sitzung ende` are a draft; `!einspruch` within the
rules' period; at the room's reminder hour after it the minutes are approved, or, with an
objection, their approval goes on the next agenda and the next meeting approves them.

The dialog's "now" is Monday, 9 March 2026, 10:15 in Berlin; the meeting ends at 11:15,
so with the default 14 days objections are possible until Monday, 23 March.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import col, select

from bot.runtime.scheduler import run_timers
from commands.core.defaults import Defaults
from commands.core.i18n import Language
from commands.core.timers import TimerEnv
from storage.db import Database
from storage.models import AgendaKind, AgendaRequest, OutboxMessage
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, REGISTRY, Dialog

TIMERS = [t for t in REGISTRY.timers if t.name == "minutes-approval"]
NAMES = {ANNA: "Anna Schmidt", BEN: "Ben Okafor", CARLA: "Carla Weber", CHAIR: "Vorsitz Meyer"}
LAST_DAY = dt.datetime(2026, 3, 23, 23, 30, tzinfo=BERLIN)
APPROVAL_AT = dt.datetime(2026, 3, 24, 9, 0, tzinfo=BERLIN)


def wake(db: Database, now: dt.datetime, language: Language = "de") -> dt.datetime | None:
    """One wake-up of the approval timer; when it wants to be called next."""
    env = TimerEnv(defaults=Defaults(language=language), members=lambda room: NAMES)
    with db.session() as s:
        return run_timers(s, now, env, TIMERS).next_at


def notices(db: Database) -> list[dict[str, Any]]:
    """What the timer posted, oldest first."""
    with db.session() as s:
        rows = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    # The timer's messages are about a meeting and answer no command.
    contents = [json.loads(r.content) for r in rows if r.ref_kind == "meeting"]
    return [c for c in contents if "m.relates_to" not in c]


def hold_meeting(dialog: Dialog, title: str = "Märzsitzung") -> str:
    """A meeting of an hour; its minutes as posted."""
    dialog.say(CHAIR, f"!sitzung start {title}")
    dialog.now += dt.timedelta(hours=1)
    return dialog.text(CHAIR, "!sitzung ende")


def test_minutes_without_objection_are_approved_after_the_period(dialog: Dialog) -> None:
    minutes = hold_meeting(dialog)
    assert (
        "📝 Entwurf – Einspruch bis Mo., 23. März 2026 mit `!einspruch 1 <Grund>` "
        "(Geschäftsordnung: 14 Tage); ohne Einspruch gilt das Protokoll danach als genehmigt."
    ) in minutes
    # The last day for objections: nothing yet; the timer wants the next morning.
    assert wake(dialog.database, LAST_DAY) == APPROVAL_AT
    assert notices(dialog.database) == []

    wake(dialog.database, APPROVAL_AT)
    wake(dialog.database, APPROVAL_AT + dt.timedelta(hours=2))  # never twice
    [notice] = notices(dialog.database)
    assert notice["body"] == (
        "✅ Das Protokoll der Sitzung #1 ist genehmigt: Bis Mo., 23. März 2026 hat niemand "
        "Einspruch erhoben."
    )
    dialog.now = APPROVAL_AT + dt.timedelta(hours=1)
    shown = dialog.text(ANNA, "!sitzung protokoll 1")
    assert (
        "✅ Genehmigt am Di., 24. März 2026: bis Mo., 23. März 2026 hat niemand Einspruch erhoben."
    ) in shown
    assert "Entwurf" not in shown
    late = dialog.text(BEN, "!einspruch 1 Punkt 3 fehlt")
    assert late.startswith(
        "Das Protokoll der Sitzung #1 ist seit Di., 24. März 2026 genehmigt; ein Einspruch ist "
        "nicht mehr möglich (Geschäftsordnung: Einspruch innerhalb von 14 Tagen nach der "
        "Sitzung)."
    )


def test_an_objection_puts_the_approval_on_the_next_agenda_and_that_meeting_approves(
    dialog: Dialog,
) -> None:
    dialog.say(CHAIR, "!sitzung plan am 14.4. 16 Uhr")
    hold_meeting(dialog)
    dialog.now = dt.datetime(2026, 3, 20, 18, 0, tzinfo=BERLIN)
    stored = dialog.text(BEN, "!einspruch 1 Der Beschluss zu TOP 3 fehlt")
    assert stored.startswith(
        "Einspruch gegen das Protokoll der Sitzung #1 festgehalten: „Der Beschluss zu TOP 3 "
        "fehlt“. Das Protokoll gilt damit nicht als genehmigt"
    )
    assert (
        "📝 Entwurf – Einspruch bis Mo., 23. März 2026 mit `!einspruch 1 <Grund>`; bisher ein "
        "Einspruch."
    ) in dialog.text(ANNA, "!sitzung protokoll 1")

    wake(dialog.database, APPROVAL_AT)
    wake(dialog.database, APPROVAL_AT + dt.timedelta(days=1))
    [notice] = notices(dialog.database)
    assert notice["body"].split("\n") == [
        "⚠️ Das Protokoll der Sitzung #1 ist nicht genehmigt: ein Einspruch bis Mo., 23. März "
        "2026. „Genehmigung des Protokolls“ steht mit dem Einspruch auf der Tagesordnung der "
        "nächsten Sitzung:",
        "• Ben Okafor: „Der Beschluss zu TOP 3 fehlt“",
    ]
    with dialog.database.session() as s:
        [item] = s.exec(select(AgendaRequest)).all()
        assert (item.kind, item.done_at) == (AgendaKind.MINUTES, None)
    dialog.now = APPROVAL_AT + dt.timedelta(hours=1)
    assert (
        "⚠️ Nicht genehmigt: ein Einspruch bis Mo., 23. März 2026; die Genehmigung steht auf "
        "der Tagesordnung der nächsten Sitzung."
    ) in dialog.text(ANNA, "!sitzung protokoll 1")
    draft = dialog.text(ANNA, "!tagesordnung")
    assert (
        "2. Genehmigung des Protokolls der letzten Sitzung\n"
        "   – Sitzung #1 vom Mo., 9. März 2026: nicht genehmigt, ein Einspruch\n"
        "   – Einspruch von Ben Okafor: „Der Beschluss zu TOP 3 fehlt“\n"
        "3. "
    ) in draft

    # The April meeting takes up the approval: the minutes of #1 are approved by it.
    dialog.now = dt.datetime(2026, 4, 14, 16, 0, tzinfo=BERLIN)
    hold_meeting(dialog, "Aprilsitzung")
    assert (
        "✅ Genehmigt am Di., 14. April 2026 von der folgenden Sitzung, nach einem Einspruch."
    ) in dialog.text(ANNA, "!sitzung protokoll 1")
    draft = dialog.text(ANNA, "!tagesordnung")
    assert "Sitzung #1" not in draft
    assert "   – Sitzung #2 vom Di., 14. April 2026: Einspruchsfrist bis Di., 28. April 2026" in (
        draft
    )


def test_bad_objections_get_a_clear_answer_naming_the_rule(dialog: Dialog) -> None:
    dialog.say(
        CHAIR,
        "!geschäftsordnung stimmberechtigt @anna @ben @carla @vorsitz",
        mentions=(ANNA, BEN, CARLA, CHAIR),
    )
    dialog.say(CHAIR, "!sitzung start")
    running = dialog.text(ANNA, "!einspruch 1 zu kurz")
    assert "Sitzung #1 läuft noch. Einspruch gibt es gegen ihr Protokoll" in running
    dialog.now += dt.timedelta(hours=1)
    dialog.say(CHAIR, "!sitzung ende")
    assert (
        "Gegen welches Protokoll? Bitte die Nummer der Sitzung und den Grund nennen, z. B. "
        "`!einspruch 1 Punkt 3 fehlt`."
    ) in dialog.text(ANNA, "!einspruch Punkt 3 fehlt")
    assert "Ein Einspruch braucht einen Grund, z. B. `!einspruch 1 Punkt 3 fehlt`." in (
        dialog.text(ANNA, "!einspruch 1")
    )
    assert "In diesem Raum gibt es keine Sitzung #7 (bisher eine Sitzung)." in dialog.text(
        ANNA, "!einspruch 7 Punkt 3 fehlt"
    )
    assert "nicht stimmberechtigt" in dialog.text(COORDINATOR, "!einspruch 1 Tippfehler")
    assert "festgehalten" in dialog.text(ANNA, "!einspruch #1 Punkt 3 fehlt")
    twice = dialog.text(ANNA, "!einspruch 1 Und Punkt 4")
    assert twice.startswith(
        "Sie haben gegen das Protokoll der Sitzung #1 schon Einspruch erhoben (am Mo., 9. März "
        "2026: „Punkt 3 fehlt“). Jedes Mitglied erhebt einen Einspruch je Protokoll"
    )
    dialog.now = dt.datetime(2026, 3, 24, 7, 0, tzinfo=BERLIN)  # before the timer's hour
    late = dialog.text(BEN, "!einspruch 1 Tippfehler")
    assert late.startswith(
        "Die Einspruchsfrist für das Protokoll der Sitzung #1 endete am Mo., 23. März 2026 "
        "(Geschäftsordnung: Einspruch innerhalb von 14 Tagen nach der Sitzung). Ich habe "
        "nichts gespeichert"
    )
    shown = dialog.text(BEN, "!sitzung protokoll 1")
    assert "Nicht genehmigt: ein Einspruch bis Mo., 23. März 2026" in shown


def test_the_rules_period_sets_the_last_day(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!geschäftsordnung setze protokoll einspruchsfrist 7 tage")
    minutes = hold_meeting(dialog)
    assert "Einspruch bis Mo., 16. März 2026 mit `!einspruch 1 <Grund>` (Geschäftsordnung: " in (
        minutes
    )
    approval = dt.datetime(2026, 3, 17, 9, 0, tzinfo=BERLIN)
    assert wake(dialog.database, approval - dt.timedelta(minutes=1)) == approval
    wake(dialog.database, approval)
    [notice] = notices(dialog.database)
    assert "Bis Mo., 16. März 2026 hat niemand Einspruch erhoben" in notice["body"]


def test_english_minutes_approval(dialog: Dialog) -> None:
    room = Dialog(dialog.database, defaults=Defaults(language="en"))
    room.say(CHAIR, "!meeting start")
    room.now += dt.timedelta(hours=1)
    minutes = room.text(CHAIR, "!meeting end")
    assert "📝 Draft – objections until Mon, 23 March 2026 with `!objection 1 <reason>`" in (
        minutes
    )
    assert "Objection to the minutes of meeting #1 noted: “Item 3 is missing”." in room.text(
        ANNA, "!objection 1 Item 3 is missing"
    )
    wake(room.database, APPROVAL_AT, "en")
    [notice] = notices(room.database)
    assert notice["body"].startswith(
        "⚠️ The minutes of meeting #1 are not approved: one objection by Mon, 23 March 2026."
    )
