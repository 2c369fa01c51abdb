"""Reminder storage on SQLite and PostgreSQL: schema, never twice, one transaction, the lease."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.runtime.dbthread import DbThread
from bot.runtime.scheduler import LEASE_NAME, LeaseHeld, ReminderScheduler, run_timers
from commands.core.timers import TimerEnv, TimerResult, TimerRule
from commands.features import build_registry
from storage import agreements, lease, outbox, rooms
from storage import reminders as store
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import HistoryAction, LogStatus, OutboxMessage, ReminderKind
from storage.models.reminders import ReminderLog, SchedulerLease
from tests.unit.reminder_helpers import add_agreement, change_agreement

ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
NOW = dt.datetime(2026, 3, 13, 8, 0, tzinfo=dt.UTC)  # Friday 09:00 in Berlin


def test_migration_creates_the_reminder_tables_and_goes_back(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"reminder", "reminder_log", "reminder_snooze", "scheduler_lease"} <= tables
    downgrade(db.engine, "0002")
    try:
        assert "reminder_log" not in set(inspect(db.engine).get_table_names())
    finally:
        upgrade(db.engine)
    uniques = {u["name"] for u in inspect(db.engine).get_unique_constraints("reminder_log")}
    assert "uq_reminder_log_key" in uniques


def test_an_occurrence_key_can_be_recorded_only_once(db: Database) -> None:
    with db.session() as s:
        store.record(
            s,
            key="agreement:1:due:2026-03-13",
            room_id=ROOM,
            kind=ReminderKind.DUE,
            occurrence_at=NOW,
            now=NOW,
        )
    with pytest.raises(IntegrityError), db.session() as s:
        store.record(
            s,
            key="agreement:1:due:2026-03-13",
            room_id=ROOM,
            kind=ReminderKind.DUE,
            occurrence_at=NOW,
            now=NOW,
        )
    with db.session() as s:
        assert len(store.log_entries(s)) == 1


def test_re_dating_history_is_read_back_as_an_aware_moment(db: Database) -> None:
    a = add_agreement(db, number=1, text="x", due=dt.date(2026, 3, 20), owners=[ANNA])
    moment = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    change_agreement(
        db, a, at=moment, action=HistoryAction.DUE_CHANGED, due_date=dt.date(2026, 3, 27)
    )
    with db.session() as s:
        assert agreements.restarted_at(s, [a]) == {a: moment}
        assert agreements.owners_of(s, [a]) == {a: [ANNA]}


def _scheduler(
    db: Database, dbt: DbThread, *, clock: dt.datetime = NOW, ttl: float = 30, renew: float = 10
) -> ReminderScheduler:
    return ReminderScheduler(
        db,
        dbt,
        env=TimerEnv(members=lambda _r: {ANNA: "Anna Schmidt"}),
        timers=build_registry().timers,
        clock=lambda: clock,
        wake_outbox=lambda: None,
        lease_ttl=dt.timedelta(seconds=ttl),
        renew_every=dt.timedelta(seconds=renew),
    )


async def test_wake_up_queues_message_and_records_it_in_one_transaction(db: Database) -> None:
    a = add_agreement(db, number=3, text="Bericht", due=dt.date(2026, 3, 13), owners=[ANNA])
    with db.session() as s:
        rooms.set_setting(s, ROOM, "reminder.digest", "off 2026-01-01T00:00Z")
    dbt = DbThread()
    sched = _scheduler(db, dbt)
    try:
        await sched.acquire()
        queued, next_at = await dbt.run(sched._fire, NOW)
        assert queued == 1
        assert next_at == dt.datetime(2026, 3, 20, 8, 0, tzinfo=dt.UTC)  # first overdue
        # Woken again (a poke, a second wake-up): nothing more.
        assert (await dbt.run(sched._fire, NOW + dt.timedelta(seconds=5)))[0] == 0
    finally:
        await sched.stop()
        dbt.close()
    with db.session() as s:
        [msg] = s.exec(select(OutboxMessage)).all()
        [entry] = [e for e in store.log_entries(s) if e.status == LogStatus.SENT]
        assert entry.outbox_id == msg.id
        assert entry.agreement_id == a
        assert entry.kind == "due"
        assert msg.txn_id == outbox.txn_id_for(f"reminder:agreement:{a}:due:2026-03-13", db.secret)
        assert msg.ref_kind == "agreement"
        assert msg.ref_id == a
        content = json.loads(msg.content)
        assert content["msgtype"] == "m.text"
        assert content["m.mentions"] == {"user_ids": [ANNA]}
        assert "https://matrix.to/#/@anna:example.org" in content["formatted_body"]


async def test_a_failing_wake_up_leaves_neither_message_nor_record(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_agreement(db, number=3, text="Bericht", due=dt.date(2026, 3, 13), owners=[ANNA])
    dbt = DbThread()
    sched = _scheduler(db, dbt)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crash after the message was queued")

    monkeypatch.setattr(store, "record", crash)
    try:
        await sched.acquire()
        with pytest.raises(RuntimeError):
            await dbt.run(sched._fire, NOW)
    finally:
        await sched.stop()
        dbt.close()
    with db.session() as s:
        assert s.exec(select(OutboxMessage)).all() == []
        assert s.exec(select(ReminderLog)).all() == []


async def test_a_second_process_on_the_database_refuses_to_start(db: Database) -> None:
    dbt = DbThread()
    first = _scheduler(db, dbt, ttl=3, renew=0.5)
    second = _scheduler(db, dbt, ttl=3, renew=0.5)
    try:
        await first.acquire()
        await first.start()
        with pytest.raises(LeaseHeld, match="refusing to start a second one"):
            await second.acquire()
        # The holder posts; the refused one would not even if it ran.
        assert await dbt.run(_holds, db, first.holder)
        assert not await dbt.run(_holds, db, second.holder)
    finally:
        await first.stop()
        await second.stop()
        dbt.close()
    with db.session() as s:
        assert lease.lease(s, LEASE_NAME) is None  # released on a clean stop


def _holds(db: Database, holder: str) -> bool:
    with db.session() as s:
        return lease.holds_lease(s, LEASE_NAME, holder, now=dt.datetime.now(dt.UTC))


def _dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


async def test_the_lease_of_a_killed_process_is_taken_over_at_once(db: Database) -> None:
    holder = f"{socket.gethostname()}:{_dead_pid()}:deadbeef"
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        s.add(
            SchedulerLease(
                name=LEASE_NAME,
                holder=holder,
                acquired_at=now,
                expires_at=now + dt.timedelta(minutes=5),
            )
        )
    dbt = DbThread()
    sched = _scheduler(db, dbt)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await sched.acquire()
        assert loop.time() - started < 2
        assert await dbt.run(_holds, db, sched.holder)
    finally:
        await sched.stop()
        dbt.close()


async def test_an_expired_lease_of_another_machine_is_taken_over(db: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        s.add(
            SchedulerLease(
                name=LEASE_NAME,
                holder="elsewhere:1:x",
                acquired_at=now,
                expires_at=now - dt.timedelta(seconds=1),
            )
        )
    dbt = DbThread()
    sched = _scheduler(db, dbt)
    try:
        await sched.acquire()
        assert await dbt.run(_holds, db, sched.holder)
        assert os.getpid() == int(sched.holder.split(":")[1])
    finally:
        await sched.stop()
        dbt.close()


def _broken(*_args: object) -> TimerResult:
    raise RuntimeError("a feature's timer with a bug")


def test_a_failing_timer_holds_up_no_reminder_of_the_room(db: Database) -> None:
    add_agreement(db, number=3, text="Bericht", due=dt.date(2026, 3, 13), owners=[ANNA])
    timers = (TimerRule("broken", _broken), *build_registry().timers)
    env = TimerEnv(members=lambda _r: {ANNA: "Anna Schmidt"})
    with db.session() as s:
        # All rooms at once: the failure is raised after the others ran, and the caller's
        # transaction is undone so that the rooms are looked at one by one.
        with pytest.raises(RuntimeError, match="a feature's timer"):
            run_timers(s, NOW, env, timers)
        s.rollback()
        # One room: the broken timer is skipped (and looked at again in a minute), the
        # owner's reminder goes out all the same.
        result = run_timers(s, NOW, env, timers, ROOM)
        s.commit()
    assert result.next_at is not None
    assert result.next_at <= NOW + dt.timedelta(minutes=1)
    with db.session() as s:
        sent = [json.loads(m.content)["body"] for m in s.exec(select(OutboxMessage))]
        assert any("Bericht" in body for body in sent), sent
        assert s.exec(select(ReminderLog)).all()
