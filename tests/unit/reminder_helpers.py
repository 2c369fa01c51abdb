"""Helpers of the reminder tests: agreements written straight to the database (tests.seed),
plans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.runtime.scheduler import queue_owed
from commands.core.timers import TimerEnv
from commands.reminders.plan import Plan, owed, plan
from storage.db import Database
from storage.models import AgreementStatus
from tests import seed
from tests.dialog import BERLIN, CHAIR, COORDINATOR, ROOM, Dialog


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
    """An agreement of the dialog's room, numbered as the test says (tests.seed)."""
    with db.session() as s:
        seed.room(s, room_id, joined_at=created_at - dt.timedelta(days=30))
        a = seed.agreement(
            s,
            room_id,
            text,
            by=created_by,
            at=created_at,
            owners=owners,
            due=due,
            status=status,
            closed_at=closed_at,
            number=number,
        )
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
        seed.change(
            s, agreement_id, at=at, action=action, actor=seed.SOMEONE, owners=owners, **values
        )


def env_for(dialog: Dialog) -> TimerEnv:
    members = dict(dialog.members)
    return TimerEnv(
        coordinators=frozenset({COORDINATOR}),
        members=lambda _room: members,
        power_levels=lambda _room: {CHAIR: 50, "@bot:example.org": 100},
        bot_user="@bot:example.org",
    )


def fire(db: Database, now: dt.datetime, env: TimerEnv) -> Plan:
    """What the scheduler does at a wake-up: queue what is due in the outbox and mark it
    handled. A dialog's next message delivers what was queued, as the bot's sender does."""
    with db.session() as s:
        result = plan(s, now, env)
        queue_owed(s, owed(s, result, now).effects)
        return result


def sent(result: Plan) -> list[str]:
    return [d.key for d in result.due if d.reply is not None]
