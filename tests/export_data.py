"""A committee year to export: rooms with names, settings and roles, agreements with
owners and their whole history (done, reassigned, re-dated, edited, cancelled, notes),
reminders, snoozes and the reminder log, written through the storage functions the
commands use (tests.seed). Deterministic: the same seed gives the same database."""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

import pytest
from sqlmodel import Session

from commands.exports.run import FORMATS, export, make_scope
from commands.exports.sections import Scope
from storage import agreements as store
from storage import outbox, reminders, rooms
from storage.db import Database
from storage.models import AgreementStatus, OutboxFile, RefKind, ReminderKind
from tests import seed as rows
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR

# When the formats' tests export: mid-year, after the year's agreements were made.
EXPORTED_AT = dt.datetime(2026, 6, 15, 12, 0, tzinfo=BERLIN)
# What the homeserver received as uploads: event ID -> (file name, type, bytes).
Uploads = dict[str, tuple[str, str, bytes]]


def keep_uploads(monkeypatch: pytest.MonkeyPatch) -> Uploads:
    """The file of a message is dropped from the outbox once sent: keep what was sent."""
    seen: Uploads = {}
    original = outbox.mark_sent

    def mark_sent(db: Session, msg_id: int, event_id: str, **kw: Any) -> Any:
        f = db.get(OutboxFile, msg_id)
        if f is not None:
            seen[event_id] = (f.filename, f.mimetype, f.data)
        return original(db, msg_id, event_id, **kw)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent)
    return seen


def render(db: Database, fmt: str, scope: Scope | None = None) -> bytes:
    """The file a format makes of the database (German, Berlin, at EXPORTED_AT by default)."""
    scope = scope or make_scope(room_ids=None, period=None, lang="de", tz=BERLIN, now=EXPORTED_AT)
    out = io.BytesIO()
    with db.session() as s:
        export(s, FORMATS[fmt], scope, out)
    return out.getvalue()


YEAR_START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)
ROOMS = {
    "!steuerung:example.org": "Steuerungsgruppe Bildung",
    "!uebergang:example.org": "AG Übergang Schule–Beruf",
    "!fruehe:example.org": "Netzwerk Frühe Bildung",
}
PEOPLE = (ANNA, BEN, CARLA, CHAIR)
# Text as people type it: umlauts, quotes, commas, a line break, Markdown and HTML characters.
TEXTS = (
    "Entwurf Bildungsbericht an Schulämter",
    'Raum für „Fachtag“ buchen, "groß" genug',
    "Zahlen Übergänge 2025\nmit Jugendamt abstimmen",
    "Einladung <Netzwerktreffen> & *Tagesordnung* | Protokoll",
    "Förderanträge prüfen; Frist beachten",
)


def fill_year(db: Database, *, per_room: int = 60, seed: int = 11) -> None:
    rnd = random.Random(seed)
    events = iter(range(1, 10**9))
    with db.session() as s:
        for room_id, name in ROOMS.items():
            rows.room(
                s,
                room_id,
                joined_at=YEAR_START - dt.timedelta(days=30),
                name=name,
                settings={"language": "de", "reminder_days_before": "2"},
            )
            rooms.set_room_role(s, room_id, CHAIR, "chair", set_by=ANNA, at=YEAR_START)
        for room_id in ROOMS:
            for n in range(per_room):
                at = YEAR_START + dt.timedelta(days=n * 5, hours=rnd.randint(0, 6))
                due = (at + dt.timedelta(days=rnd.randint(3, 60))).date()
                text = f"{TEXTS[n % len(TEXTS)]} ({n + 1})"
                owners = rnd.sample(PEOPLE, rnd.randint(1, 2))
                due_date = due if n % 7 else None
                due_time = dt.time(10, 0) if n % 4 == 0 else None
                a = rows.agreement(
                    s,
                    room_id,
                    text,
                    by=rnd.choice(PEOPLE),
                    at=at,
                    owners=owners,
                    due=due_date,
                    due_time=due_time,
                    event=f"$rec{next(events)}",
                )
                step = at
                for _ in range(rnd.randint(0, 4)):
                    step += dt.timedelta(days=rnd.randint(1, 9), minutes=rnd.randint(0, 300))
                    change = rnd.choice(("owners", "due", "note", "text"))
                    if change == "owners":
                        store.set_owners(s, a, rnd.sample(PEOPLE, 2), actor=CHAIR, at=step)
                    elif change == "due":
                        store.set_due(s, a, due + dt.timedelta(days=7), None, actor=ANNA, at=step)
                    elif change == "note":
                        store.add_note(s, a, "Rückmeldung „liegt vor“", actor=BEN, at=step)
                    else:
                        store.set_text(s, a, a.text + ", ergänzt", actor=CARLA, at=step)
                if n % 3 == 0:
                    step += dt.timedelta(days=2)
                    store.set_status(s, a, AgreementStatus.DONE, actor=ANNA, at=step, note="ok")
                elif n % 11 == 0:
                    step += dt.timedelta(days=1)
                    store.set_status(s, a, AgreementStatus.CANCELLED, actor=CHAIR, at=step)
                if n % 5 == 1 and a.due_date is not None:
                    assert a.id is not None
                    reminders.record(
                        s,
                        key=f"agreement:{a.id}:due:{a.due_date}",
                        room_id=room_id,
                        kind=ReminderKind.DUE,
                        occurrence_at=step + dt.timedelta(days=1),
                        now=step + dt.timedelta(days=1, seconds=3),
                        agreement_id=a.id,
                    )
            reminder = rows.reminder(
                s,
                room_id,
                "Protokoll rumschicken",
                by=ANNA,
                at=YEAR_START,
                recurrence='{"freq": "weekly", "time": "09:00", "weekdays": [0], "nth": null}',
                mentions=[BEN],
                event=f"$rem{next(events)}",
            )
            assert reminder.id is not None
            reminders.set_snooze(
                s,
                ref_kind=RefKind.REMINDER,
                ref_id=reminder.id,
                room_id=room_id,
                until=YEAR_START + dt.timedelta(days=3),
                set_by=BEN,
                now=YEAR_START,
            )
