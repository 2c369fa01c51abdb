"""The outbox sender: sends what the outbox holds, each queue in order, queues side by side.

A queue is a room's messages, or one member's direct messages (bot.runtime.delivery finds
their room, fills in what relates to an earlier message, uploads files). Every message was
stored before with a fixed transaction ID, so a resend after a crash is deduplicated by
the homeserver. A room whose messages the homeserver refuses backs off on its own; the
other rooms' messages keep going out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
from collections.abc import Callable
from functools import partial

from nio import AsyncClient, ErrorResponse, RoomPutStateResponse, RoomSendResponse

from bot.crypto.attachments import AttachmentError
from bot.runtime.dbthread import DbThread
from bot.runtime.delivery import Delivery, Undeliverable, Waiting
from bot.runtime.direct_rooms import DirectRoomError, DirectRooms
from bot.runtime.logs import log_context
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Errors after which resending the same message cannot succeed.
_PERMANENT_SEND_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON"}
_MAX_SEND_ATTEMPTS = 8
# Queues sent side by side: the round trip of one send, not the homeserver's rate limit,
# would otherwise cap a burst of reminders or a backlog across many rooms (measured:
# bench_backlog, bench_burst).
SEND_CONCURRENCY = 16
# A message waiting for another (a poll's end for its start) is looked at again this soon.
_WAITING_RETRY = 1.0


class Outcome(enum.Enum):
    DONE = "done"  # sent, or given up for good: the queue goes on
    WAITING = "waiting"  # not yet sendable (its target, its room): the queue waits
    FAILED = "failed"  # refused or unreachable: retried with backoff


class OutboxSender:
    """Sends each queue (a room, or one member's direct messages) in order; queues side by
    side, each drained by a task of its own as long as it has messages, so a queue with a
    long backlog never makes a fresh answer in another room wait for it."""

    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        *,
        client: Callable[[], AsyncClient | None],
        clock: Callable[[], dt.datetime],
        max_retry_wait: float,
        on_sent: Callable[[str], None] = lambda txn_id: None,
        file_wanted: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.dbt = dbt
        self._client = client
        self.clock = clock
        self.max_retry_wait = max_retry_wait
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._slots = asyncio.Semaphore(SEND_CONCURRENCY)
        self.enabled = False  # set once the bot is in sync and knows its rooms
        # Queue key (outbox.queue_key) → the task draining it now.
        self._drains: dict[str, asyncio.Task[Outcome]] = {}
        # Per queue: failures in a row, and when it may be tried again.
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        # Queues whose next message waits for another one (a poll's end for its start):
        # looked at again once something was sent, or after a second.
        self._waiting: dict[str, tuple[int, float]] = {}
        self._progress = 0  # messages sent so far: tells a waiting queue something moved
        self._idle_until: float | None = None
        # Told the transaction ID of each message the homeserver accepted (metrics).
        self.on_sent = on_sent
        # Told when a file row waits for its file (the renderer makes it, then `file_made`).
        self.delivery = Delivery(
            db, dbt, DirectRooms(db, dbt, clock=clock), file_wanted=file_wanted
        )

    def wake(self, room_id: str | None = None, rows: list[OutboxMessage] | None = None) -> None:
        """Something was queued (for `room_id`, when the caller knows it: that room's
        queue is started at once, without first reading the outbox for it; with `rows`,
        its pending messages as the caller read them in the database thread just now)."""
        if room_id is not None and self.enabled and room_id not in self._skipped():
            self._start(room_id, rows)
            if rows:
                return  # that drain wakes the sender when it ends or goes on after one
        self._wake.set()

    @property
    def waiting(self) -> bool:
        """A queue waits for another message, its room or a member's join."""
        return bool(self._waiting)

    def file_made(self, key: str) -> None:
        """The file a row of queue `key` waited for is there (or its failure's answer):
        that queue goes on at once, not only when its wait is looked at again."""
        self._progress += 1
        self._waiting.pop(key, None)
        self.wake(key)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def close(self) -> None:
        """Stop every drain (at shutdown); what they had not sent stays in the outbox."""
        self.stop()
        drains = list(self._drains.values())
        for drain in drains:
            drain.cancel()
        await asyncio.gather(*drains, return_exceptions=True)

    async def run(self) -> None:
        """Start drains whenever woken. Nothing that goes wrong here ends the sender: a queue
        the homeserver refuses backs off, a database that does not answer is waited for."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._next_wake())
            self._wake.clear()
            if self._stop.is_set() or not self.enabled:
                continue
            try:
                await self._dispatch()
            except Exception:
                log.exception("reading the outbox failed; retrying")
                self._idle_until = self._now() + min(self.max_retry_wait, 2.0)

    async def flush(self) -> bool:
        """Send what can be sent now, and wait for it; True when nothing is left waiting.

        Queues waiting for another message get another try at once; queues backing off
        after a refusal do not.
        """
        self._waiting.clear()
        while not self._stop.is_set():
            started = await self._dispatch()
            if not started and not self._drains:
                break
            await asyncio.gather(*list(self._drains.values()), return_exceptions=True)
        return not self._retry_at and not self._waiting

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _next_wake(self) -> float:
        """Seconds until a queue's backoff ends or a waiting queue is looked at again."""
        moments = list(self._retry_at.values())
        moments.extend(since + _WAITING_RETRY for _, since in self._waiting.values())
        if self._idle_until is not None:
            moments.append(self._idle_until)
        if not moments:
            return 30.0
        return max(0.0, min(30.0, min(moments) - self._now()))

    def _skipped(self) -> set[str]:
        """Queues not to start now: draining already, backing off, or still waiting."""
        now = self._now()
        skipped = set(self._drains)
        skipped.update(key for key, at in self._retry_at.items() if at > now)
        skipped.update(
            key
            for key, (progress, since) in self._waiting.items()
            if progress == self._progress and since + _WAITING_RETRY > now
        )
        return skipped

    async def _dispatch(self) -> int:
        """Start a drain for every queue with pending messages that may go now."""
        self._idle_until = None
        rows = await self.dbt.run_until_answered(self._pending, self._skipped(), 1)
        keys = {outbox.queue_key(row) for row in rows} - set(self._drains)
        for key in keys:
            self._start(key)
        return len(keys)

    def _start(self, key: str, rows: list[OutboxMessage] | None = None) -> None:
        drain = asyncio.create_task(self._drain(key, rows), name=f"send-{key}")
        self._drains[key] = drain
        # What had been sent when it started: should it end up waiting for another
        # message, anything sent since (even while it ran) may be that message.
        drain.add_done_callback(partial(self._drained, key, self._progress))

    async def _drain(self, key: str, rows: list[OutboxMessage] | None = None) -> Outcome:
        """Send one queue's messages in order until it is empty, or one cannot go (yet)."""
        if rows and self._slots.locked():
            rows = None  # read again once a slot is free: they may be stale by then
            self._wake.set()
        # Started with an answer's rows: the other queues are looked at when this drain
        # ends (`_drained`) or goes on after its first message, not while that is sent.
        wake_on_next = bool(rows)
        sent = 0
        async with self._slots:
            while not self._stop.is_set():
                if rows is None:
                    rows = await self.dbt.run_until_answered(self._pending_of, key)
                if not rows:
                    return Outcome.DONE
                for row in rows:
                    if self._stop.is_set():
                        return Outcome.WAITING
                    if wake_on_next and sent:
                        wake_on_next = False
                        self._wake.set()
                    with log_context(room_id=row.room_id or row.to_user, outbox_id=row.id):
                        outcome = await self._send_one(row)
                    if outcome is not Outcome.DONE:
                        return outcome
                    self._progress += 1
                    sent += 1
                rows = None
        return Outcome.WAITING

    def _drained(self, key: str, progress_at_start: int, drain: asyncio.Task[Outcome]) -> None:
        if self._drains.get(key) is drain:
            del self._drains[key]
        if drain.cancelled():
            return
        exc = drain.exception()
        if exc is not None:
            log.error("sending to %s failed", key, exc_info=exc)
            outcome = Outcome.FAILED
        else:
            outcome = drain.result()
        if outcome is Outcome.FAILED:
            self._back_off(key)
        elif outcome is Outcome.WAITING:
            self._waiting[key] = (progress_at_start, self._now())
        else:
            self._retry_at.pop(key, None)
            self._failures.pop(key, None)
            self._waiting.pop(key, None)
        # What this queue sent may be what another one waits for; and new messages may
        # have come for this one meanwhile.
        self.wake()

    def _back_off(self, key: str) -> None:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = min(self.max_retry_wait, 0.5 * 2 ** min(failures, 6))
        self._retry_at[key] = self._now() + delay
        log.info("queue %s backs off for %.1f s after %d failure(s)", key, delay, failures)

    def _pending(self, skip: set[str], per_queue: int) -> list[OutboxMessage]:
        with self.db.session(write=False) as s:
            return outbox.pending(s, skip=skip, per_queue=per_queue)

    def _pending_of(self, key: str) -> list[OutboxMessage]:
        with self.db.session(write=False) as s:
            return outbox.pending_of(s, key)

    async def _send_one(self, row: OutboxMessage) -> Outcome:
        client = self._client()
        assert client is not None
        assert row.id is not None
        try:
            prepared = await self.delivery.prepare(client, row)
        except Exception as exc:  # the network, a refused room or upload
            log.warning("preparing message %s failed: %s", row.id, exc)
            give_up = (
                isinstance(exc, DirectRoomError | AttachmentError)
                and row.attempts + 1 >= _MAX_SEND_ATTEMPTS
            )
            await self.dbt.run_until_answered(self._failed, row.id, str(exc), give_up)
            return Outcome.FAILED
        if isinstance(prepared, Waiting):
            log.debug("message %s waits: %s", row.id, prepared.reason)
            return Outcome.WAITING
        if isinstance(prepared, Undeliverable):
            log.error("message %s cannot be sent: %s", row.id, prepared.reason)
            await self.dbt.run_until_answered(self._failed, row.id, prepared.reason, True)
            return Outcome.DONE
        try:
            resp: RoomSendResponse | RoomPutStateResponse | ErrorResponse
            if prepared.state_key is not None:
                # State has no transaction ID: the same content again is no new event.
                resp = await client.room_put_state(
                    prepared.room_id,
                    prepared.event_type,
                    prepared.content,
                    state_key=prepared.state_key,
                )
            else:
                resp = await client.room_send(
                    prepared.room_id,
                    prepared.event_type,
                    prepared.content,
                    tx_id=row.txn_id,
                    ignore_unverified_devices=True,
                )
        except Exception as exc:
            log.warning("sending to %s failed: %s", prepared.room_id, exc)
            await self.dbt.run_until_answered(self._failed, row.id, str(exc), False)
            return Outcome.FAILED
        if isinstance(resp, RoomSendResponse | RoomPutStateResponse):
            await self.dbt.run_until_answered(self._sent, row.id, resp.event_id)
            self.delivery.sent(row.id)
            self.on_sent(row.txn_id)
            return Outcome.DONE
        errcode = getattr(resp, "status_code", None) or ""
        give_up = errcode in _PERMANENT_SEND_ERRORS and row.attempts + 1 >= _MAX_SEND_ATTEMPTS
        log.warning("homeserver refused message to %s: %s", prepared.room_id, resp)
        await self.dbt.run_until_answered(self._failed, row.id, str(resp), give_up)
        return Outcome.FAILED

    def _sent(self, msg_id: int, event_id: str) -> None:
        with self.db.session() as s:
            outbox.mark_sent(s, msg_id, event_id, at=self.clock())

    def _failed(self, msg_id: int, error: str, give_up: bool) -> None:
        with self.db.session() as s:
            outbox.mark_attempt_failed(s, msg_id, error, give_up=give_up)
