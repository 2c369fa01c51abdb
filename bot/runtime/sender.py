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
from bot.runtime.dbthread import DbThread
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
        self._background: set[asyncio.Future[bool]] = set()
        self.delivery = Delivery(db, dbt, DirectRooms(db, dbt, clock=clock))

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; what the homeserver refused is retried with backoff."""
        failures = 0
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=30)
            self._wake.clear()
            if self._stop.is_set() or not self.enabled:
                continue
            if await self.flush():
                failures = 0
                continue
            failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop.wait(),
                    timeout=min(self.max_retry_wait, 0.5 * 2 ** min(failures, 6)),
                )
            self._wake.set()

    async def flush(self) -> bool:
        """Send every pending message; False when one could not be sent (yet)."""
        async with self._lock:
            while not self._stop.is_set() and (rows := await self.dbt.run(self._pending)):
                queues: dict[str, list[OutboxMessage]] = {}
                for row in rows:
                    queues.setdefault(outbox.queue_of(row), []).append(row)
                slots = asyncio.Semaphore(_SEND_CONCURRENCY)
                results = await asyncio.gather(
                    *(self._send_in_order(q, slots) for q in queues.values())
                )
                if any(outcome is Outcome.FAILED for outcome, _ in results):
                    return False
                # A waiting message may wait for one another queue just sent: go round
                # again, unless nothing moved at all.
                if any(outcome is Outcome.WAITING for outcome, _ in results) and not any(
                    done for _, done in results
                ):
                    return False
        return True

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

    async def answer_now(self, wait: float) -> None:
        """Send a command's replies before the next sync, as a plain bot would.

        Waits only briefly: a throttled or slow homeserver must not hold up the sync
        loop, so a longer send goes on in the background (the outbox keeps it safe).
        """
        flush = asyncio.ensure_future(self.flush())
        flush.add_done_callback(
            lambda f: None if f.cancelled() or f.exception() or f.result() else self.wake()
        )
        self._background.add(flush)
        flush.add_done_callback(self._background.discard)
        await asyncio.wait({flush}, timeout=wait)

    def _pending(self) -> list[OutboxMessage]:
        with self.db.session() as s:
            return outbox.pending(s)

    async def _send_one(self, row: OutboxMessage) -> Outcome:
        client = self._client()
        assert client is not None and row.id is not None
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
