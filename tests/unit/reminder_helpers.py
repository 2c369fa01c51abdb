"""Helpers of the reminder tests: agreements written straight to the database, plans."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from bot.runtime.scheduler import queue_due
from commands.reminders.plan import Plan, ReminderEnv
from storage import agreements, rooms
from storage.db import Database
from storage.models import Agreement, AgreementHistory, AgreementOwner, AgreementStatus
from tests.dialog import BERLIN, CHAIR, COORDINATOR, ROOM, Dialog

_events = itertools.count(1)


def add_agreement(
    db: Database,
    *,
    number: int,
    text: str,
    due: dt.date | None,
    owners: Sequence[str] = (),
    created_by: str = "@ben:example.org",
    created_at: dt.datetime = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN),
    status: AgreementStatus = AgreementStatus.OPEN,
    closed_at: dt.datetime | None = None,
    room_id: str = ROOM,
) -> int:
    with db.session() as s:
        rooms.ensure_room(s, room_id, joined_at=created_at - dt.timedelta(days=30))
        a, _ = agreements.record(
            s,
            room_id=room_id,
            text=text,
            owners=owners,
            due_date=due,
            due_time=None,
            actor=created_by,
            at=created_at,
            source_event_id=f"$agreement{next(_events)}",
        )
        a.number = number  # a test picks the number the room shows, as if others came first
        if status != AgreementStatus.OPEN:
            agreements.set_status(s, a, status, actor=created_by, at=closed_at or created_at)
        assert a.id is not None
        return a.id


def change_agreement(
    db: Database,
    agreement_id: int,
    *,
    at: dt.datetime,
    action: str | None = None,
    owners: Sequence[str] | None = None,
    **values: object,
) -> None:
    """Change an agreement as the agreement commands do: the row and a history entry."""
    with db.session() as s:
        a = s.get(Agreement, agreement_id)
        assert a is not None
        for name, value in values.items():
            setattr(a, name, value)
        a.updated_at = at
        s.add(a)
        if owners is not None:
            for row in list(s.exec(_owner_rows(agreement_id))):
                s.delete(row)
            s.flush()
            for i, owner in enumerate(owners):
                s.add(AgreementOwner(agreement_id=agreement_id, user_id=owner, position=i))
        if action:
            s.add(
                AgreementHistory(
                    agreement_id=agreement_id, at=at, actor="@x:example.org", action=action
                )
            )


def _owner_rows(agreement_id: int) -> SelectOfScalar[AgreementOwner]:
    return select(AgreementOwner).where(AgreementOwner.agreement_id == agreement_id)


def env_for(dialog: Dialog) -> ReminderEnv:
    members = dict(dialog.members)
    return ReminderEnv(
        coordinators=frozenset({COORDINATOR}),
        members=lambda _room: members,
        power_levels=lambda _room: {CHAIR: 50, "@bot:example.org": 100},
        bot_user="@bot:example.org",
    )


def fire(db: Database, now: dt.datetime, env: ReminderEnv) -> Plan:
    """What the scheduler does at a wake-up: queue what is due in the outbox and mark it
    handled. A dialog's next message delivers what was queued, as the bot's sender does."""
    with db.session() as s:
        return queue_due(s, now, env)


def sent(result: Plan) -> list[str]:
    return [d.key for d in result.due if d.reply is not None]
