"""A wake-up plans the agreements page by page (commands.reminders.plan.BATCH): whatever
the page size, the same occurrences are due, in the same order, with the same texts and
the same next moment."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from commands.reminders import plan as plan_module
from commands.reminders.plan import Plan, plan
from storage import reminders
from storage.db import Database
from storage.models import AgreementStatus, RefKind
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, Dialog
from tests.unit.reminder_helpers import env_for

ROOMS = [f"!room{r}:example.org" for r in range(4)]
CREATED = dt.datetime(2026, 2, 2, 10, 0, tzinfo=BERLIN)


def _fill(db: Database) -> None:
    """Agreements due before, at and long after the moments looked at, some closed, some
    put off beyond the window; reminders once and weekly; in four rooms, interleaved."""
    with db.session() as s:
        for room_id in ROOMS:
            seed.room(s, room_id, joined_at=CREATED - dt.timedelta(days=30))
        for n in range(60):
            room_id = ROOMS[n % len(ROOMS)]
            status = AgreementStatus.DONE if n % 7 == 3 else AgreementStatus.OPEN
            closed = CREATED + dt.timedelta(days=1) if status != AgreementStatus.OPEN else None
            a = seed.agreement(
                s,
                room_id,
                f"Aufgabe {n}",
                by=BEN,
                at=CREATED,
                owners=[ANNA] if n % 3 else [],
                due=dt.date(2026, 2, 20) + dt.timedelta(days=n - 10 if n < 50 else 10 * n),
                status=status,
                closed_at=closed,
                number=n // len(ROOMS) + 1,
            )
            assert a.id is not None
            if n % 11 == 5 or n == 55:
                reminders.set_snooze(
                    s,
                    ref_kind=RefKind.AGREEMENT,
                    ref_id=a.id,
                    room_id=room_id,
                    until=dt.datetime(2026, 3, 4, 11, 0, tzinfo=BERLIN),
                    set_by=ANNA,
                    now=CREATED,
                )
        for n, room_id in enumerate(ROOMS * 2):
            weekly = json.dumps({"freq": "weekly", "time": "08:30", "weekdays": [n % 5]})
            seed.reminder(
                s,
                room_id,
                f"Erinnerung {n}",
                by=ANNA,
                at=CREATED,
                due_at=None if n % 2 else CREATED + dt.timedelta(days=n + 20),
                recurrence=weekly if n % 2 else None,
            )


def _shown(result: Plan) -> list[tuple[object, ...]]:
    return [
        (d.key, d.kind, d.room_id, d.late, d.log, d.reply.body if d.reply else None)
        for d in result.due
    ]


@pytest.mark.parametrize("day", [dt.date(2026, 2, 25), dt.date(2026, 3, 4), dt.date(2026, 3, 9)])
def test_pages_of_any_size_plan_the_same(
    dialog: Dialog, monkeypatch: pytest.MonkeyPatch, day: dt.date
) -> None:
    db = dialog.database
    _fill(db)
    env = env_for(dialog)
    now = dt.datetime.combine(day, dt.time(12, 0), tzinfo=BERLIN)
    results = {}
    for size in (1000, 3, 1):
        monkeypatch.setattr(plan_module, "BATCH", size)
        with db.session() as s:
            results[size] = plan(s, now, env)
            s.rollback()
    whole = results[1000]
    assert whole.due, "nothing due: the test would compare nothing"
    assert {d.kind for d in whole.due} >= {"overdue", "digest"}
    for size in (3, 1):
        assert _shown(results[size]) == _shown(whole)
        assert results[size].next_at == whole.next_at
