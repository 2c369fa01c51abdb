"""A bot database as it looks after two years in hundreds of committees, filled fast.

`fill()` writes, with SQLAlchemy core bulk inserts into the schema of storage.migrate,
agreements for rooms the bot is in (the `room` rows must exist; the bot writes them when it
joins): about a quarter open (most recent, with due dates ahead or overdue, some without),
the rest done or cancelled; one or two owners each, from the room's members; a history per
agreement (created, reassigned, re-dated, notes, done, cancelled, reopened); for every
command the processed-event mark and the bot's sent answer in the outbox; reminder log
rows for the reminders already posted; `!erinnere` reminders (weekly ones, one-offs done
and ahead); a few rooms with settings of their own. The rooms' join date and the reminder
epoch are moved back to the start of the two years, as for a bot running that long.

`settle_reminders()` then does what the running bot would have done by now: one reminder
pass at the current time (storage rows for every reminder due, posted or passed over), and
every message owed marked sent. The bot started on this database finds nothing owed, as
after an ordinary restart.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Table, func, select, update
from sqlmodel import SQLModel, col

from bot.runtime.scheduler import queue_owed
from commands.core.room import LANGUAGE_KEY
from commands.core.timers import TimerEnv
from commands.parsing.recurrence import Recurrence
from commands.reminders.plan import owed, plan, recurrence_value
from commands.reminders.settings import STATE
from storage import events
from storage.agreements import due_value, owners_value
from storage.db import Database
from storage.lease import EPOCH_KEY
from storage.models import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    AgreementStatus,
    HistoryAction,
    LogStatus,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    Reminder,
    ReminderLog,
    ReminderStatus,
    Room,
    RoomSetting,
)
from storage.outbox import txn_id_for

YEARS = 2
BATCH = 5000

_VERBS = (
    "Entwurf", "Stellungnahme", "Rückmeldung", "Einladung", "Protokoll", "Konzept",
    "Übersicht", "Bericht", "Anfrage", "Zeitplan", "Vorlage", "Beschlussvorschlag",
)  # fmt: skip
_TOPICS = (
    "Bildungsbericht", "Ganztag an Grundschulen", "Übergang Kita–Schule", "Sprachförderung",
    "Schulsozialarbeit", "Ferienbetreuung", "Digitalpakt", "Schulwegsicherung",
    "Berufsorientierung", "Elternbeteiligung", "Inklusion", "Jugendhilfeplanung",
    "Familienzentren", "Lernförderung", "Medienbildung", "Schulentwicklungsplan",
)  # fmt: skip
_TO = (
    "an das Schulamt", "an den Jugendhilfeausschuss", "für die nächste Sitzung",
    "an die Schulleitungen", "mit dem Jugendamt abstimmen", "an das Bildungsbüro",
    "an die Träger", "im Netzwerk verteilen", "an die Dezernentin", "",
)  # fmt: skip
_NOTES = (
    "Rückfrage beim Jugendamt läuft",
    "Termin mit der Schulleitung steht",
    "Entwurf liegt im Ordner",
    "wartet auf die Zahlen des Landes",
    "mit der Verwaltung besprochen",
)


@dataclass
class Filled:
    agreements: int = 0
    open: int = 0
    overdue: int = 0
    history: int = 0
    outbox: int = 0
    processed: int = 0
    reminders: int = 0
    reminder_log: int = 0

    def line(self) -> str:
        return (
            f"{self.agreements} agreements ({self.open} open, {self.overdue} of them overdue), "
            f"{self.history} history rows, {self.outbox} sent messages, {self.processed} "
            f"handled events, {self.reminders} reminders, {self.reminder_log} reminder log rows"
        )


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


class _Change(NamedTuple):
    """One history row of an agreement."""

    at: dt.datetime
    actor: str
    action: HistoryAction
    old: str | None = None
    new: str | None = None
    note: str | None = None


class _Writer:
    """Rows collected per table and inserted in batches, parents first."""

    ORDER = (Agreement, AgreementOwner, AgreementHistory, ProcessedEvent, OutboxMessage,
             Reminder, ReminderLog)  # fmt: skip

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows: dict[type[SQLModel], list[dict[str, Any]]] = {m: [] for m in self.ORDER}

    def add(self, model: type[SQLModel], row: dict[str, Any]) -> None:
        self.rows[model].append(row)
        if len(self.rows[AgreementHistory]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        with self.db.engine.begin() as conn:
            for model in self.ORDER:
                if self.rows[model]:
                    conn.execute(_table(model).insert(), self.rows[model])
                    self.rows[model] = []


def _text(rng: random.Random) -> str:
    to = rng.choice(_TO)
    return f"{rng.choice(_VERBS)} {rng.choice(_TOPICS)}" + (f" {to}" if to else "")


def _answer(body: str, event_id: str) -> str:
    """A sent answer's content, about as long as the bot's confirmations are."""
    return json.dumps(
        {
            "msgtype": "m.notice",
            "body": body,
            "format": "org.matrix.custom.html",
            "formatted_body": f"<p>{body}</p>",
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
        },
        ensure_ascii=False,
    )


def fill(
    db: Database,
    members: Mapping[str, Sequence[str]],
    agreements: int,
    *,
    now: dt.datetime,
    seed: int = 2026,
) -> Filled:
    """Fill the database for the rooms in `members` (room ID → its members' user IDs)."""
    rng = random.Random(seed)
    start = now - dt.timedelta(days=365 * YEARS)
    room_ids = sorted(members)
    with db.engine.begin() as conn:
        conn.execute(update(_table(Room)).values(joined_at=start))
        settings: list[dict[str, Any]] = []
        for i, room_id in enumerate(room_ids):
            if i % 10 == 3:
                settings.append({"room_id": room_id, "key": LANGUAGE_KEY, "value": "en"})
            if i % 20 == 7:
                settings.append({"room_id": room_id, "key": STATE.key, "value": "BY"})
        if settings:
            conn.execute(_table(RoomSetting).insert(), settings)
    with db.session() as s:
        events.set_state(s, EPOCH_KEY, start.isoformat())

    # Who, where, when and in which state, then numbered per room in order of creation.
    plans: list[tuple[dt.datetime, str, AgreementStatus]] = []
    for i in range(agreements):
        room_id = room_ids[i % len(room_ids)]
        status = rng.choices(
            (AgreementStatus.OPEN, AgreementStatus.DONE, AgreementStatus.CANCELLED),
            weights=(25, 70, 5),
        )[0]
        if status == AgreementStatus.OPEN and rng.random() < 0.8:
            created = now - dt.timedelta(days=rng.uniform(1, 120))
        else:
            created = start + (now - dt.timedelta(days=14) - start) * rng.random()
        plans.append((created.replace(microsecond=0), room_id, status))
    plans.sort()

    filled = Filled()
    writer = _Writer(db)
    numbers: dict[str, int] = {}
    with db.engine.connect() as conn:
        # The bot's own messages (its greeting in each room it joined) come first.
        sent = conn.execute(select(func.max(_table(OutboxMessage).c.id))).scalar() or 0
    ids = _Ids(outbox=sent)
    today = now.date()
    for agreement_id, (created, room_id, status) in enumerate(plans, start=1):
        people = list(members[room_id])
        numbers[room_id] = number = numbers.get(room_id, 0) + 1
        author = rng.choice(people)
        owners = rng.sample(people, k=min(len(people), 1 if rng.random() < 0.8 else 2))
        due: dt.date | None = None
        due_time: dt.time | None = None
        if rng.random() < 0.85:
            due = (created + dt.timedelta(days=rng.randint(5, 75))).date()
            if rng.random() < 0.1:
                due_time = dt.time(rng.choice((10, 12, 17)), 0)
        closed: dt.datetime | None = None
        if status != AgreementStatus.OPEN:
            closed = min(
                now - dt.timedelta(hours=1), created + dt.timedelta(days=rng.randint(1, 90))
            )
        text = _text(rng)
        event_id = f"$bench-a{agreement_id}"
        writer.add(
            Agreement,
            {"id": agreement_id, "room_id": room_id, "number": number, "text": text,
             "status": status, "due_date": due, "due_time": due_time, "created_by": author,
             "created_at": created, "updated_at": closed or created, "closed_at": closed,
             "source_event_id": event_id},
        )  # fmt: skip
        for position, owner in enumerate(owners):
            writer.add(
                AgreementOwner,
                {"agreement_id": agreement_id, "user_id": owner, "position": position},
            )
        filled.agreements += 1
        if status == AgreementStatus.OPEN:
            filled.open += 1
            filled.overdue += int(due is not None and due < today)

        end = closed or now - dt.timedelta(hours=1)
        changes = [_Change(created, author, HistoryAction.CREATED, new=text)]
        if rng.random() < 0.3:
            changes.append(
                _Change(_between(rng, created, end), rng.choice(people), HistoryAction.ASSIGNED,
                        owners_value(owners[:1]), owners_value(owners))
            )  # fmt: skip
        if due is not None and rng.random() < 0.2:
            earlier = due - dt.timedelta(days=rng.randint(3, 21))
            changes.append(
                _Change(_between(rng, created, end), rng.choice(people),
                        HistoryAction.DUE_CHANGED, due_value(earlier, None),
                        due_value(due, due_time))
            )  # fmt: skip
        changes.extend(
            _Change(_between(rng, created, end), rng.choice(people), HistoryAction.NOTE,
                    note=rng.choice(_NOTES))
            for _ in range(rng.choice((0, 0, 1, 1, 2)))
        )  # fmt: skip
        if status == AgreementStatus.OPEN and rng.random() < 0.03:
            at = _between(rng, created, end)
            changes.append(_Change(at, author, HistoryAction.DONE, "open", "done"))
            changes.append(
                _Change(at + dt.timedelta(hours=2), author, HistoryAction.REOPENED, "done", "open")
            )
        if closed is not None:
            done = status == AgreementStatus.DONE
            changes.append(
                _Change(closed, rng.choice(owners),
                        HistoryAction.DONE if done else HistoryAction.CANCELLED, "open", status,
                        None if done else "erledigt sich mit dem neuen Konzept")
            )  # fmt: skip
        for change in sorted(changes, key=lambda c: c.at):
            history_id = ids.next_history()
            created_it = change.action == HistoryAction.CREATED
            source = event_id if created_it else f"$bench-h{history_id}"
            writer.add(
                AgreementHistory,
                {"id": history_id, "agreement_id": agreement_id, "at": change.at,
                 "actor": change.actor, "action": change.action, "old_value": change.old,
                 "new_value": change.new, "note": change.note, "source_event_id": source},
            )  # fmt: skip
            _command(writer, ids, room_id, source, change.at, f"Verabredung #{number}: {text}")
            filled.history += 1
            filled.processed += 1
            filled.outbox += 1
        # The reminders already posted: before and on the due date of those past it.
        if due is not None and due < today and due >= start.date():
            for kind in ("before", "due"):
                at = dt.datetime.combine(
                    due - dt.timedelta(days=2 if kind == "before" else 0), dt.time(8), dt.UTC
                )
                if at <= created:
                    continue
                outbox_id = _sent(writer, ids, room_id, at, f"Erinnerung an #{number}: {text}")
                writer.add(
                    ReminderLog,
                    {"key": f"agreement:{agreement_id}:{kind}:{due}", "room_id": room_id,
                     "kind": kind, "agreement_id": agreement_id, "reminder_id": None,
                     "occurrence_at": at, "handled_at": at, "status": LogStatus.SENT,
                     "late": False, "outbox_id": outbox_id},
                )  # fmt: skip
                filled.reminder_log += 1
                filled.outbox += 1
    _reminders(writer, ids, members, rng, now, start, filled)
    writer.flush()
    return filled


def _reminders(
    writer: _Writer,
    ids: _Ids,
    members: Mapping[str, Sequence[str]],
    rng: random.Random,
    now: dt.datetime,
    start: dt.datetime,
    filled: Filled,
) -> None:
    """Per room: a weekly reminder, two one-offs posted long ago, one ahead."""
    weekly = recurrence_value(Recurrence("weekly", dt.time(9, 0), (rng.randrange(5),), None))
    reminder_id = 0
    for room_id in sorted(members):
        people = list(members[room_id])
        kinds: list[tuple[dt.datetime | None, str | None, str]] = [
            (None, weekly, ReminderStatus.ACTIVE),
            (now - dt.timedelta(days=rng.randint(30, 300)), None, ReminderStatus.DONE),
            (now - dt.timedelta(days=rng.randint(30, 300)), None, ReminderStatus.DONE),
            (now + dt.timedelta(days=rng.randint(1, 40)), None, ReminderStatus.ACTIVE),
        ]
        for number, (due_at, recurrence, status) in enumerate(kinds, start=1):
            reminder_id += 1
            created = start + (now - dt.timedelta(days=330) - start) * rng.random()
            event_id = f"$bench-r{reminder_id}"
            writer.add(
                Reminder,
                {"id": reminder_id, "room_id": room_id, "number": number,
                 "text": f"Unterlagen für die Sitzung {number} vorbereiten",
                 "mentions": json.dumps(people[:2]), "due_at": due_at, "recurrence": recurrence,
                 "status": status, "active_since": created,
                 "last_fired_at": now - dt.timedelta(days=7) if recurrence else None,
                 "created_by": people[0], "created_at": created, "updated_at": created,
                 "source_event_id": event_id},
            )  # fmt: skip
            _command(writer, ids, room_id, event_id, created, f"Erinnerung {number} gespeichert")
            filled.reminders += 1
            filled.processed += 1
            filled.outbox += 1


class _Ids:
    """The next IDs of the tables filled here (after those already there)."""

    def __init__(self, *, outbox: int = 0) -> None:
        self.history = 0
        self.outbox = outbox

    def next_history(self) -> int:
        self.history += 1
        return self.history

    def next_outbox(self) -> int:
        self.outbox += 1
        return self.outbox


def _command(
    writer: _Writer, ids: _Ids, room_id: str, event_id: str, at: dt.datetime, answer: str
) -> None:
    """A member's command: handled once, answered once."""
    writer.add(ProcessedEvent, {"event_id": event_id, "room_id": room_id, "processed_at": at})
    _sent(writer, ids, room_id, at, answer, reply_to=event_id)


def _sent(
    writer: _Writer,
    ids: _Ids,
    room_id: str,
    at: dt.datetime,
    body: str,
    *,
    reply_to: str | None = None,
) -> int:
    outbox_id = ids.next_outbox()
    writer.add(
        OutboxMessage,
        {"id": outbox_id, "txn_id": txn_id_for(f"bench:{outbox_id}", b"bench"), "room_id": room_id,
         "event_type": "m.room.message", "content": _answer(body, reply_to or ""),
         "status": OutboxStatus.SENT, "created_at": at, "sent_at": at,
         "event_id": f"$bench-sent{outbox_id}", "attempts": 1, "last_error": None,
         "ref_kind": None, "ref_id": None, "kind": "reply", "to_user": None,
         "target_id": None},
    )  # fmt: skip
    return outbox_id


def _between(rng: random.Random, a: dt.datetime, b: dt.datetime) -> dt.datetime:
    if b <= a:
        return a
    return (a + (b - a) * rng.random()).replace(microsecond=0)


def settle_reminders(db: Database, env: TimerEnv, now: dt.datetime) -> int:
    """What the running bot would have done by `now`: every reminder due queued (or passed
    over) and recorded, and every message owed marked sent. Returns the messages queued."""
    with db.session() as s:
        result = plan(s, now, env)
        queue_owed(s, owed(s, result, now).effects)
    with db.engine.begin() as conn:
        conn.execute(
            update(_table(OutboxMessage))
            .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=now, attempts=1)
        )
    return sum(1 for due in result.due if due.reply is not None)
