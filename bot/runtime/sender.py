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

from nio import AsyncClient, RoomSendResponse

from bot.crypto.attachments import AttachmentError
from bot.runtime.dbthread import UNAVAILABLE, DbThread
from bot.runtime.delivery import Delivery, Undeliverable, Waiting
from bot.runtime.direct_rooms import DirectRoomError, DirectRooms
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Errors after which resending the same message cannot succeed.
_PERMANENT_SEND_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON"}
_MAX_SEND_ATTEMPTS = 8
# Rooms served at once: the round trip of one send, not the homeserver's rate limit,
# would otherwise cap a burst of reminders across many rooms.
_SEND_CONCURRENCY = 4
# A message waiting for another (a poll's end for its start) is looked at again this soon.
_WAITING_RETRY = 1.0


class Outcome(enum.Enum):
    DONE = "done"  # sent, or given up for good: the queue goes on
    WAITING = "waiting"  # not yet sendable (its target, its room): the queue waits
    FAILED = "failed"  # refused or unreachable: retried with backoff


class OutboxSender:
    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        *,
        client: Callable[[], AsyncClient | None],
        clock: Callable[[], dt.datetime],
        max_retry_wait: float,
    ) -> None:
        self.db = db
        self.dbt = dbt
        self._client = client
        self.clock = clock
        self.max_retry_wait = max_retry_wait
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        self.enabled = False  # set once the bot is in sync and knows its rooms
        # Per queue (outbox.queue_key): failures in a row, and when it may be tried again.
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._waiting = False  # some message waits for another one to be sent first
        self._idle_until: float | None = None
        self.delivery = Delivery(db, dbt, DirectRooms(db, dbt, clock=clock))

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped. Nothing that goes wrong here ends the sender: a queue the
        homeserver refuses backs off, a database that does not answer is waited for."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._next_wake())
            self._wake.clear()
            if self._stop.is_set() or not self.enabled:
                continue
            try:
                await self.flush()
            except UNAVAILABLE as exc:
                log.warning("the outbox cannot be read (%s); retrying", type(exc).__name__)
                self._idle_until = self._now() + min(self.max_retry_wait, 2.0)
            except Exception:
                log.exception("sending the outbox failed; retrying")
                self._idle_until = self._now() + min(self.max_retry_wait, 2.0)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _next_wake(self) -> float:
        """Seconds until a queue's backoff ends (or a waiting message is looked at again)."""
        moments = [*self._retry_at.values(), self._idle_until]
        if self._waiting:
            moments.append(self._now() + _WAITING_RETRY)
        future = [m for m in moments if m is not None]
        if not future:
            return 30.0
        return max(0.0, min(30.0, min(future) - self._now()))

    def _skipped(self) -> set[str]:
        now = self._now()
        return {key for key, at in self._retry_at.items() if at > now}

    async def flush(self) -> bool:
        """Send what is pending, until nothing more can move now; True when all went out.

        Each queue goes in order, a few side by side. A queue the homeserver refused
        backs off on its own (exponentially, capped) and is left out until then, so it
        neither delays nor starves the others, however many messages it holds.
        """
        async with self._lock:
            self._idle_until = None
            while not self._stop.is_set():
                skipped = self._skipped()
                rows = await self.dbt.run(self._pending, skipped)
                if not rows:
                    self._waiting = False
                    return not skipped
                queues: dict[str, list[OutboxMessage]] = {}
                for row in rows:
                    queues.setdefault(outbox.queue_of(row), []).append(row)
                slots = asyncio.Semaphore(_SEND_CONCURRENCY)
                results = await asyncio.gather(
                    *(self._send_in_order(q, slots) for q in queues.values())
                )
                moved = False
                self._waiting = False
                for queue, (outcome, done) in zip(queues.values(), results, strict=True):
                    key = outbox.queue_key(queue[0])
                    moved = moved or done > 0
                    if outcome is Outcome.FAILED:
                        self._back_off(key)
                    elif outcome is Outcome.WAITING:
                        self._waiting = True
                    else:
                        self._retry_at.pop(key, None)
                        self._failures.pop(key, None)
                # A waiting message may wait for one another queue just sent: go round
                # again, unless nothing moved at all.
                if not moved:
                    return False
            return False

    def _back_off(self, key: str) -> None:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = min(self.max_retry_wait, 0.5 * 2 ** min(failures, 6))
        self._retry_at[key] = self._now() + delay
        log.info("queue %s backs off for %.1f s after %d failure(s)", key, delay, failures)

    async def _send_in_order(
        self, queue: list[OutboxMessage], slots: asyncio.Semaphore
    ) -> tuple[Outcome, int]:
        done = 0
        async with slots:
            for row in queue:
                if self._stop.is_set():
                    return Outcome.WAITING, done
                outcome = await self._send_one(row)
                if outcome is not Outcome.DONE:
                    return outcome, done
                done += 1
        return Outcome.DONE, done

    def _pending(self, skip: set[str]) -> list[OutboxMessage]:
        with self.db.session() as s:
            return outbox.pending(s, skip=skip)

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
            await self.dbt.run(self._failed, row.id, str(exc), give_up)
            return Outcome.FAILED
        if isinstance(prepared, Waiting):
            log.debug("message %s waits: %s", row.id, prepared.reason)
            return Outcome.WAITING
        if isinstance(prepared, Undeliverable):
            log.error("message %s cannot be sent: %s", row.id, prepared.reason)
            await self.dbt.run(self._failed, row.id, prepared.reason, True)
            return Outcome.DONE
        try:
            resp = await client.room_send(
                prepared.room_id,
                prepared.event_type,
                prepared.content,
                tx_id=row.txn_id,
                ignore_unverified_devices=True,
            )
        except Exception as exc:
            log.warning("sending to %s failed: %s", prepared.room_id, exc)
            await self.dbt.run(self._failed, row.id, str(exc), False)
            return Outcome.FAILED
        if isinstance(resp, RoomSendResponse):
            await self.dbt.run(self._sent, row.id, resp.event_id)
            self.delivery.sent(row.id)
            return Outcome.DONE
        errcode = getattr(resp, "status_code", None) or ""
        give_up = errcode in _PERMANENT_SEND_ERRORS and row.attempts + 1 >= _MAX_SEND_ATTEMPTS
        log.warning("homeserver refused message to %s: %s", prepared.room_id, resp)
        await self.dbt.run(self._failed, row.id, str(resp), give_up)
        return Outcome.FAILED

    def _sent(self, msg_id: int, event_id: str) -> None:
        with self.db.session() as s:
            outbox.mark_sent(s, msg_id, event_id, at=self.clock())

    def _failed(self, msg_id: int, error: str, give_up: bool) -> None:
        with self.db.session() as s:
            outbox.mark_attempt_failed(s, msg_id, error, give_up=give_up)
