"""The reminder scheduler. APScheduler only wakes the bot; the database is the truth.

At start-up and after every change (`poke()`), the next due moment is computed from the
database and one wake-up job with a fixed ID is (re)scheduled. On waking, in the database
thread and in one transaction, the features' timers (commands.core.timers; the reminders
are one) say what is due and not yet handled; it is put into the outbox with a stable key
and recorded as handled; then the outbox sender is woken. A crash at any
point leaves either both (message owed, occurrence handled) or neither, and the outbox's
fixed transaction IDs make a resend after a crash a no-op at the homeserver.

Reminders are only posted while the bot is in sync with the homeserver (`set_online`):
after a restart or an outage the commands that arrived meanwhile (`!erledigt 4`) are
handled first, so a reminder of an agreement completed meanwhile is not posted.

Only one process may post reminders: a lease row in the database, renewed while the bot
runs. A second process on the same database waits a moment to see whether the holder is
alive (it renews) and then refuses to start; a holder that died (SIGKILL) is taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from bot.runtime.dbthread import UNAVAILABLE, DbThread
from bot.runtime.events import display_names
from bot.runtime.outgoing import enqueue_effect
from commands.core.room import CREATOR_POWER_LEVEL
from commands.core.timers import Timed, TimerEnv, TimerResult, TimerRule
from storage import lease as lease_store
from storage import rooms
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

WAKE_JOB_ID = "gremienbot-reminders-wake"
RENEW_JOB_ID = "gremienbot-reminders-lease"
LEASE_NAME = "reminders"
LEASE_TTL = dt.timedelta(seconds=30)
LEASE_RENEW_EVERY = dt.timedelta(seconds=10)
# APScheduler never skips a late wake-up: the bot may have been paused, the host asleep.
MISFIRE_GRACE = None
# Even with nothing planned, look again this often (agreements coming into the window of
# the reminder policy, changes made outside the bot's commands, clock jumps).
MAX_SLEEP = dt.timedelta(hours=1)

# How long a command's poke of its room waits before the room's reminders are looked at.
POKE_DELAY = 0.2

# Lease holders alive in this process (several bots in one test process).
_LIVE_HOLDERS: set[str] = set()


class LeaseHeld(Exception):
    """Another live process posts this database's reminders."""


# Real time, shared by all processes: the lease never uses a test clock.
wall_clock = utcnow


def queue_owed(s: Session, owed: Sequence[Timed]) -> None:
    """Queue what a timer owes in the caller's transaction, and tell the timer each
    message's outbox row: what it did and the message are stored together or not at all."""
    for timed in owed:
        row = None
        if timed.effect is not None:
            row = enqueue_effect(s, timed.key, timed.room_id, timed.effect)
        if timed.queued is not None:
            timed.queued(None if row is None else row.id)


def run_timers(
    s: Session,
    now: dt.datetime,
    env: TimerEnv,
    timers: Sequence[TimerRule],
    room_id: str | None = None,
    *,
    post: bool = True,
) -> TimerResult:
    """Run the features' timers (commands.core.timers) in the caller's transaction and
    queue what they owe (`post` False: only find out whether and when something is due).

    Each timer runs in a savepoint, so one that fails holds up none of the others. Looking
    at one room, the failing timer is logged and looked at again in a minute. Looking at
    all rooms, the failure is raised once the others have run: the caller's transaction
    is then undone and the scheduler looks at the rooms one by one, so that only the
    room whose data the timer fails on is skipped (`ReminderScheduler._check`). A
    database that does not answer is raised at once: that is an outage, not a bug.
    """
    total = TimerResult()
    failed: Exception | None = None
    for rule in timers:
        savepoint = s.begin_nested()
        try:
            result = rule.run(s, now, env, room_id)
            if post:
                queue_owed(s, result.effects)
            savepoint.commit()
        except UNAVAILABLE:
            raise
        except Exception as exc:
            savepoint.rollback()
            if room_id is None:
                failed = failed or exc
                continue
            log.exception("the timer %s failed (room %s); retrying in a minute", rule.name, room_id)
            total.later(now + dt.timedelta(minutes=1))
            continue
        total.effects.extend(result.effects)
        total.later(now if result.effects and not post else result.next_at)
    if failed is not None:
        raise failed
    return total


class ReminderScheduler:
    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        *,
        env: TimerEnv,
        clock: Callable[[], dt.datetime],
        wake_outbox: Callable[[], None],
        lease_ttl: dt.timedelta = LEASE_TTL,
        renew_every: dt.timedelta = LEASE_RENEW_EVERY,
        sync_grace: float = 35.0,
        timers: Sequence[TimerRule] = (),
        on_posted: Callable[[int, int], None] = lambda sent, late: None,
    ) -> None:
        self.db = db
        # Told how many reminders were posted, and how many of them late (metrics).
        self.on_posted = on_posted
        self.timers = tuple(timers)
        self.dbt = dbt
        self.env = env
        self.clock = clock
        self.wake_outbox = wake_outbox
        self.lease_ttl = lease_ttl
        self.renew_every = renew_every
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        # A sync that has not come back after this long means the homeserver is away.
        self.sync_grace = sync_grace
        self._synced = False
        self._sync_started: float | None = None
        self._deferred = False
        self._poke_all = True
        self._poke_rooms: set[str] = set()
        self.next_at: dt.datetime | None = None
        self.lease_lost = False
        self._aps: AsyncIOScheduler | None = None
        self._kick: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lease

    async def acquire(self) -> None:
        """Take the lease, or raise LeaseHeld when another live process holds it."""
        deadline = time.monotonic() + (self.lease_ttl + self.renew_every).total_seconds() + 2
        seen: dt.datetime | None = None
        while True:
            other = await self.dbt.run(self._take, False)
            if other is None:
                break
            holder, expires_at = other
            if self._holder_is_dead(holder):
                log.warning(
                    "taking over the reminder lease of %s, which is no longer running", holder
                )
                await self.dbt.run(self._take, True)
                break
            if seen is None:
                seen = expires_at
                log.warning(
                    "another gremienbot process (%s) holds the reminder lease of this database "
                    "until %s; waiting to see whether it is still running",
                    holder,
                    expires_at.isoformat(timespec="seconds"),
                )
            elif expires_at != seen or time.monotonic() > deadline:
                raise LeaseHeld(
                    f"another gremienbot process ({holder}) is running on this database and "
                    "posts its reminders; refusing to start a second one. Stop the other process "
                    "first (or wait until its lease expires)."
                )
            await asyncio.sleep(0.5)
        _LIVE_HOLDERS.add(self.holder)
        log.info("holding the reminder lease as %s", self.holder)
        await self.dbt.run(self._ensure_epoch)

    def _ensure_epoch(self) -> None:
        with self.db.session() as s:
            lease_store.ensure_epoch(s, self.clock())

    def _take(self, force: bool) -> tuple[str, dt.datetime] | None:
        with self.db.session() as s:
            other = lease_store.take_lease(
                s, LEASE_NAME, self.holder, now=wall_clock(), ttl=self.lease_ttl, force=force
            )
            return None if other is None else (other.holder, other.expires_at)

    def _holder_is_dead(self, holder: str) -> bool:
        host, _, rest = holder.partition(":")
        pid_text, _, _ = rest.partition(":")
        if host != socket.gethostname() or not pid_text.isdigit():
            return False  # another machine: only the lease's expiry tells
        pid = int(pid_text)
        if pid == os.getpid():
            return holder not in _LIVE_HOLDERS
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    async def _renew(self) -> None:
        try:
            other = await self.dbt.run(self._take, False)
        except UNAVAILABLE as exc:  # an outage, no bug: the lease is renewed when it is over
            log.warning("could not renew the reminder lease (%s); retrying", type(exc).__name__)
            return
        except Exception:
            log.exception("renewing the reminder lease failed; retrying")
            return
        if other is not None and not self.lease_lost:
            self.lease_lost = True
            log.error(
                "the reminder lease was taken by %s: this process posts no more reminders",
                other[0],
            )

    def _release(self) -> None:
        with self.db.session() as s:
            lease_store.release_lease(s, LEASE_NAME, self.holder)

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        # APScheduler logs every (re)scheduled job at INFO: one line per command otherwise.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._kick = asyncio.Event()
        self._aps = AsyncIOScheduler(timezone=dt.UTC)
        self._aps.add_job(
            self._renew,
            IntervalTrigger(seconds=self.renew_every.total_seconds(), timezone=dt.UTC),
            id=RENEW_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE,
        )
        self._aps.start()
        self._worker = asyncio.create_task(self._work(), name="reminder-scheduler")
        self.poke()

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self.holder in _LIVE_HOLDERS:
            _LIVE_HOLDERS.discard(self.holder)
            with contextlib.suppress(Exception):
                await self.dbt.run(self._release)

    def poke(self, room_id: str | None = None) -> None:
        """Something changed (in one room): recompute from the database.

        A room's poke recomputes only that room, so a command costs little however many
        rooms there are; every wake-up recomputes them all.
        """
        if room_id is None:
            self._poke_all = True
        else:
            self._poke_rooms.add(room_id)
        if self._kick is not None:
            self._kick.set()

    def sync_started(self) -> None:
        """A sync request goes out (nio retries it by itself while the server is away)."""
        self._sync_started = time.monotonic()

    def set_online(self, online: bool) -> None:
        """A sync came back (True) or failed (False)."""
        was = self._synced
        self._synced = online
        self._sync_started = None
        if online and (not was or self._deferred):
            self._deferred = False
            self.poke()

    @property
    def online(self) -> bool:
        """In sync with the homeserver: the last sync came back and the current one is not
        overdue. While it hangs (homeserver away), reminders wait; they go out after the
        sync that brings the commands sent meanwhile."""
        if not self._synced:
            return False
        started = self._sync_started
        return started is None or time.monotonic() - started < self.sync_grace

    async def _alarm(self) -> None:
        self.poke()

    async def _work(self) -> None:
        assert self._kick is not None
        while True:
            await self._kick.wait()
            if not self._poke_all:
                # A command poked its room: the answer goes out first (it shares the
                # database thread), and a burst of commands is looked at once.
                await asyncio.sleep(POKE_DELAY)
            self._kick.clear()
            rooms = None if self._poke_all else sorted(self._poke_rooms)
            self._poke_all = False
            self._poke_rooms = set()
            try:
                await self._run_once(rooms)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the reminder scheduler failed; retrying in a minute")
                self._schedule(self.clock() + dt.timedelta(minutes=1))

    async def _run_once(self, rooms: list[str] | None = None) -> None:
        """Post what is due (all rooms, or the given ones) and schedule the next wake-up."""
        log.debug("reminder check in %s (online: %s)", rooms or "all rooms", self.online)
        targets: list[str | None] = list(rooms) if rooms else [None]
        found: list[dt.datetime] = []
        for room_id in targets:
            found.extend(m for m in await self._check(room_id) if m is not None)
        now = self.clock()
        if rooms and self.next_at is not None:
            # The other rooms' next moment still stands (one that has just passed: now).
            found.append(max(self.next_at, now))
        self._schedule(min(found) if found else None)

    async def _check(self, room_id: str | None) -> list[dt.datetime | None]:
        """Post (or, offline, only look at) what is due in one room or in all of them.

        All rooms are looked at in one go; should a timer fail on one room's data, they
        are looked at room by room and only the failing room is skipped (logged, retried
        in a minute): one room's bad data never stops another room's reminders.
        """
        try:
            return [await self._check_one(room_id)]
        except Exception:
            retry = self.clock() + dt.timedelta(minutes=1)
            if room_id is not None:
                log.exception("the timers of %s failed; skipping that room", room_id)
                return [retry]
            log.exception("the timers failed on all rooms at once; looking room by room")
        # A timer of no room (the daily retention) is looked at again in a minute too.
        found: list[dt.datetime | None] = [retry]
        for rid in await self.dbt.run_until_answered(self._room_ids):
            found.extend(await self._check(rid))
        return found

    async def _check_one(self, room_id: str | None) -> dt.datetime | None:
        # While the database does not answer, wait for it (and then look at the time
        # again): what fell due meanwhile is posted as soon as it answers.
        if self.online and not self.lease_lost:
            queued, next_at = await self.dbt.run_until_answered(self._fire_now, room_id)
            if queued:
                self.wake_outbox()
            return next_at
        next_at = await self.dbt.run_until_answered(self._next_now, room_id)
        now = self.clock()
        if next_at is not None and next_at <= now:
            # Due, but not postable now: the next sync that comes back pokes.
            self._deferred = True
            next_at = now + dt.timedelta(minutes=1)
        return next_at

    def _room_ids(self) -> list[str]:
        with self.db.session() as s:
            return [room_id for room_id, _joined in rooms.active_room_ids(s)]

    def _schedule(self, next_at: dt.datetime | None) -> None:
        latest = self.clock() + MAX_SLEEP
        next_at = latest if next_at is None else min(next_at, latest)
        self.next_at = next_at
        log.debug("next reminder check at %s", next_at)
        if self._aps is None:
            return
        delay = max(0.0, (next_at - self.clock()).total_seconds())
        # The clock may be a test clock: the job runs at the same distance in real time.
        run_date = wall_clock() + dt.timedelta(seconds=delay, milliseconds=5)
        self._aps.add_job(
            self._alarm,
            DateTrigger(run_date=run_date, timezone=dt.UTC),
            id=WAKE_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE,
        )

    # ------------------------------------------------------------------ database thread

    def _fire(self, now: dt.datetime, room_id: str | None = None) -> tuple[int, dt.datetime | None]:
        with self.db.session() as s:
            # Renew first: a lease that merely ran out while the process was paused is
            # taken back unless someone else holds it now.
            if (
                not lease_store.holds_lease(s, LEASE_NAME, self.holder, now=wall_clock())
                and lease_store.take_lease(
                    s, LEASE_NAME, self.holder, now=wall_clock(), ttl=self.lease_ttl
                )
                is not None
            ):
                log.error("not posting reminders: another process holds the lease")
                self.lease_lost = True
                return 0, None
            result = run_timers(s, now, self.env, self.timers, room_id)
        # Counted once the transaction holding them is committed.
        posted = [owed for owed in result.effects if owed.effect is not None]
        if posted:
            reminders = [owed for owed in posted if owed.reminder]
            self.on_posted(len(reminders), sum(1 for owed in reminders if owed.late))
            log.info(
                "queued %d reminder(s) and timed messages; next check at %s",
                len(posted),
                result.next_at,
            )
        return len(posted), result.next_at

    def _fire_now(self, room_id: str | None) -> tuple[int, dt.datetime | None]:
        return self._fire(self.clock(), room_id)

    def _next_now(self, room_id: str | None) -> dt.datetime | None:
        return self._next(self.clock(), room_id)

    def _next(self, now: dt.datetime, room_id: str | None = None) -> dt.datetime | None:
        """When something is due, without posting it (``now`` if something is due now)."""
        with self.db.session() as s:
            # A timer with something due now owes effects (`now`), even one to skip.
            result = run_timers(s, now, self.env, self.timers, room_id, post=False)
            s.rollback()
            return result.next_at


# ---------------------------------------------------------------------------------------------
# Wiring into GremienBot


def for_bot(bot: Any) -> ReminderScheduler:
    """The scheduler of a GremienBot: its config, clock, database and rooms."""
    config = bot.config

    def room(room_id: str) -> Any:
        client = bot.client
        return client.rooms.get(room_id) if client is not None else None

    # Called in the database thread: copy nio's dicts before reading them.
    def members(room_id: str) -> Mapping[str, str]:
        r = room(room_id)
        if r is None:
            return {}
        return display_names(r)

    def power_levels(room_id: str) -> Mapping[str, int]:
        r = room(room_id)
        if r is None:
            return {}
        levels = {uid: r.power_levels.get_user_level(uid) for uid in dict(r.users)}
        for creator in bot.creators(room_id):
            levels[creator] = CREATOR_POWER_LEVEL
        return levels

    env = TimerEnv(
        defaults=bot.settings.defaults,
        coordinators=frozenset(config.coordination),
        late_after=dt.timedelta(seconds=config.reminders.late_after_seconds),
        bot_user=config.user_id,
        members=members,
        power_levels=power_levels,
    )
    return ReminderScheduler(
        bot.db,
        bot.dbt,
        env=env,
        clock=bot.clock,
        wake_outbox=bot.sender.wake,
        sync_grace=bot.sync_timeout_ms / 1000 + 5.0,
        timers=bot.settings.registry.timers,
        on_posted=bot.metrics.reminders_posted,
    )
