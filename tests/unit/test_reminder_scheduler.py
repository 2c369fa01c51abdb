"""The scheduler's decisions without a homeserver: when it posts, when it waits, what it plans.

APScheduler is not started here (`_run_once` is called directly); the database is SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlmodel import Session, select

from bot.runtime.dbthread import DbThread
from bot.runtime.scheduler import MAX_SLEEP, ReminderScheduler
from commands.core.effects import Reply
from commands.core.timers import TimerEnv
from commands.features import build_registry
from commands.reminders.policy import Occurrence
from storage import reminders as reminder_store
from storage import rooms
from storage.db import Database
from storage.models import OutboxMessage, RefKind
from tests.dialog import ANNA, BERLIN, ROOM
from tests.unit.reminder_helpers import add_agreement

OTHER = "!other:example.org"
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=BERLIN)  # Tuesday
NINE = dt.datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)
# The features' timers, as the bot runs them (the reminders are one).
TIMERS = build_registry().timers


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def dbt() -> Iterator[DbThread]:
    thread = DbThread()
    yield thread
    thread.close()


def _scheduler(db: Database, dbt: DbThread, clock: Clock, woken: list[int]) -> ReminderScheduler:
    sched = ReminderScheduler(
        db,
        dbt,
        env=TimerEnv(),
        timers=TIMERS,
        clock=clock,
        wake_outbox=lambda: woken.append(1),
        sync_grace=0.5,
    )
    with db.session() as s:
        for room in (ROOM, OTHER):
            rooms.ensure_room(s, room, joined_at=NOON - dt.timedelta(days=60))
            rooms.set_setting(s, room, "reminder.digest", "off 2026-01-01T00:00Z")
    return sched


def _queued(db: Database) -> int:
    with db.session() as s:
        return len(s.exec(select(OutboxMessage)).all())


async def test_nothing_is_posted_until_the_bot_is_in_sync(
    sqlite_db: Database, dbt: DbThread
) -> None:
    add_agreement(sqlite_db, number=1, text="x", due=dt.date(2026, 3, 10), owners=[ANNA])
    clock = Clock(NINE - dt.timedelta(seconds=30))
    woken: list[int] = []
    sched = _scheduler(sqlite_db, dbt, clock, woken)
    await sched.acquire()  # the first start: reminders are owed from now on
    clock.now = NINE
    try:
        await sched._run_once()  # started, no sync has come back yet
        assert _queued(sqlite_db) == 0
        assert sched._deferred
        sched.sync_started()
        sched.set_online(True)  # the first sync came back
        await sched._run_once()
        assert _queued(sqlite_db) == 1
        assert woken == [1]
    finally:
        await sched.stop()


async def test_a_sync_hanging_longer_than_its_timeout_means_offline(
    sqlite_db: Database, dbt: DbThread
) -> None:
    clock = Clock(NINE - dt.timedelta(seconds=30))
    woken: list[int] = []
    sched = _scheduler(sqlite_db, dbt, clock, woken)
    sched.set_online(True)
    sched.sync_started()
    assert sched.online
    await asyncio.sleep(0.6)  # nio keeps retrying inside sync() while the homeserver is away
    assert not sched.online
    add_agreement(sqlite_db, number=1, text="x", due=dt.date(2026, 3, 10), owners=[ANNA])
    await sched.acquire()
    clock.now = NINE
    try:
        await sched._run_once()
        assert _queued(sqlite_db) == 0
        sched.set_online(True)  # that sync finally came back (with what happened meanwhile)
        await sched._run_once()
        assert _queued(sqlite_db) == 1
    finally:
        await sched.stop()


async def test_a_room_poke_keeps_the_earlier_moment_of_another_room(
    sqlite_db: Database, dbt: DbThread
) -> None:
    add_agreement(sqlite_db, number=1, text="x", due=dt.date(2026, 3, 13), owners=[ANNA])
    add_agreement(
        sqlite_db, number=1, text="y", due=dt.date(2026, 3, 20), owners=[ANNA], room_id=OTHER
    )
    clock = Clock(dt.datetime(2026, 3, 11, 8, 30, tzinfo=BERLIN))
    woken: list[int] = []
    sched = _scheduler(sqlite_db, dbt, clock, woken)
    sched.set_online(True)
    await sched.acquire()
    try:
        await sched._run_once()
        assert sched.next_at == dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN)
        await sched._run_once([OTHER])  # a command in the other room (next there: 18 March)
        assert sched.next_at == dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN)
        sched.poke(OTHER)
        sched.poke(ROOM)
        assert sched._poke_rooms == {OTHER, ROOM}
    finally:
        await sched.stop()


async def test_with_nothing_planned_it_looks_again_within_the_hour(
    sqlite_db: Database, dbt: DbThread
) -> None:
    clock = Clock(NOON)
    woken: list[int] = []
    sched = _scheduler(sqlite_db, dbt, clock, woken)
    sched.set_online(True)
    await sched.acquire()
    try:
        await sched._run_once()
        assert sched.next_at == NOON + MAX_SLEEP
    finally:
        await sched.stop()


@contextlib.asynccontextmanager
async def _online_at(
    db: Database, dbt: DbThread, now: dt.datetime
) -> AsyncIterator[ReminderScheduler]:
    """A scheduler in sync with the homeserver, holding the lease, its clock at `now`."""
    sched = _scheduler(db, dbt, Clock(now), [])
    sched.set_online(True)
    await sched.acquire()
    try:
        yield sched
    finally:
        await sched.stop()


def _reminded_rooms(db: Database) -> set[str]:
    with db.session() as s:
        return {row.room_id for row in s.exec(select(OutboxMessage)) if row.room_id}


async def test_an_agreement_due_in_year_9999_does_not_stop_the_reminders_of_other_rooms(
    sqlite_db: Database, dbt: DbThread, caplog: pytest.LogCaptureFixture
) -> None:
    """Stored before dates were bounded on input, then snoozed (`!später 1 366 tage`): its
    overdue reminders lie past the calendar's end."""
    ewig = add_agreement(sqlite_db, number=1, text="Ewig", due=dt.date(9999, 12, 31), owners=[ANNA])
    with sqlite_db.session() as s:
        reminder_store.set_snooze(
            s,
            ref_kind=RefKind.AGREEMENT,
            ref_id=ewig,
            room_id=ROOM,
            until=NINE + dt.timedelta(days=366),
            set_by=ANNA,
            now=NINE - dt.timedelta(hours=1),
        )
    add_agreement(
        sqlite_db, number=1, text="Bald", due=dt.date(2026, 3, 10), owners=[ANNA], room_id=OTHER
    )
    async with _online_at(sqlite_db, dbt, NINE) as sched:
        await sched._run_once()
    assert _reminded_rooms(sqlite_db) == {OTHER}
    assert any("skipping the reminders of agreement #1" in r.message for r in caplog.records)


async def test_a_room_whose_reminders_cannot_be_planned_is_skipped_and_the_others_go_out(
    sqlite_db: Database, dbt: DbThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commands.reminders import plan as planner

    render = planner._render

    def broken_in_room(
        db: Session,
        item: planner.PlanItem,
        occ: Occurrence,
        late: bool,
        info: planner._RoomInfo,
        now: dt.datetime,
        env: TimerEnv,
        *,
        ask_reason: bool = False,
    ) -> Reply | None:
        if item.room_id == ROOM:
            raise RuntimeError("a bug that only this room's data triggers")
        return render(db, item, occ, late, info, now, env, ask_reason=ask_reason)

    monkeypatch.setattr(planner, "_render", broken_in_room)
    add_agreement(sqlite_db, number=1, text="x", due=dt.date(2026, 3, 10), owners=[ANNA])
    add_agreement(
        sqlite_db, number=1, text="y", due=dt.date(2026, 3, 10), owners=[ANNA], room_id=OTHER
    )
    async with _online_at(sqlite_db, dbt, NINE) as sched:
        await sched._run_once()
    assert _reminded_rooms(sqlite_db) == {OTHER}
    # The failing room is looked at again within a minute, not forgotten.
    assert sched.next_at is not None
    assert sched.next_at <= NINE + dt.timedelta(minutes=1)


async def test_reminders_posted_late_are_counted_as_late(
    sqlite_db: Database, dbt: DbThread
) -> None:
    """Three due at 09:00: the bot comes back at 09:30, beyond the 5 minutes of grace."""
    for number in (1, 2, 3):
        add_agreement(
            sqlite_db,
            number=number,
            text=f"Punkt {number}",
            due=dt.date(2026, 3, 10),
            owners=[ANNA],
        )
    clock = Clock(NINE - dt.timedelta(minutes=1))
    posted: list[tuple[int, int]] = []
    sched = ReminderScheduler(
        sqlite_db,
        dbt,
        env=TimerEnv(late_after=dt.timedelta(minutes=5)),
        timers=TIMERS,
        clock=clock,
        wake_outbox=lambda: None,
        on_posted=lambda sent, late: posted.append((sent, late)),
    )
    with sqlite_db.session() as s:
        rooms.ensure_room(s, ROOM, joined_at=NOON - dt.timedelta(days=60))
        rooms.set_setting(s, ROOM, "reminder.digest", "off 2026-01-01T00:00Z")
    await sched.acquire()
    try:
        sched.set_online(True)
        await sched._run_once()
        assert posted == []  # nothing due yet
        clock.now = NINE + dt.timedelta(minutes=30)
        await sched._run_once()
        assert posted == [(3, 3)]
        await sched._run_once()
        assert posted == [(3, 3)], "counted once, not at every look"
    finally:
        await sched.stop()
