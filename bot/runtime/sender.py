"""The outbox sender: sends what the outbox holds, each room in order, rooms side by side.

Every message was stored before with a fixed transaction ID, so a resend after a crash
is deduplicated by the homeserver. A room whose messages the homeserver refuses backs
off on its own; the other rooms' messages keep going out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable

from nio import AsyncClient, RoomSendResponse

from bot.runtime.dbthread import DbThread
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
            try:
                ok = await self.flush()
            except Exception:
                # Only a bug gets here (the database is waited for): the sender must not
                # die of it, or nothing would be sent until a restart.
                log.exception("sending the outbox failed; retrying")
                ok = False
            if ok:
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
        """Send every pending message; False when one could not be sent."""
        async with self._lock:
            while rows := await self.dbt.run_until_answered(self._pending):
                by_room: dict[str, list[OutboxMessage]] = {}
                for row in rows:
                    by_room.setdefault(row.room_id, []).append(row)
                slots = asyncio.Semaphore(_SEND_CONCURRENCY)
                sent = await asyncio.gather(
                    *(self._send_in_order(q, slots) for q in by_room.values())
                )
                if not all(sent):
                    return False
        return True

    async def _send_in_order(self, queue: list[OutboxMessage], slots: asyncio.Semaphore) -> bool:
        async with slots:
            for row in queue:
                if not await self._send_one(row):
                    return False
        return True

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

    async def _send_one(self, row: OutboxMessage) -> bool:
        client = self._client()
        assert client is not None and row.id is not None
        try:
            resp = await client.room_send(
                row.room_id,
                row.event_type,
                json.loads(row.content),
                tx_id=row.txn_id,
                ignore_unverified_devices=True,
            )
        except Exception as exc:
            log.warning("sending to %s failed: %s", row.room_id, exc)
            await self.dbt.run_until_answered(self._failed, row.id, str(exc), False)
            return False
        if isinstance(resp, RoomSendResponse):
            await self.dbt.run_until_answered(self._sent, row.id, resp.event_id)
            return True
        errcode = getattr(resp, "status_code", None) or ""
        give_up = errcode in _PERMANENT_SEND_ERRORS and row.attempts + 1 >= _MAX_SEND_ATTEMPTS
        log.warning("homeserver refused message to %s: %s", row.room_id, resp)
        await self.dbt.run_until_answered(self._failed, row.id, str(resp), give_up)
        return False

    def _sent(self, msg_id: int, event_id: str) -> None:
        with self.db.session() as s:
            outbox.mark_sent(s, msg_id, event_id, at=self.clock())

    def _failed(self, msg_id: int, error: str, give_up: bool) -> None:
        with self.db.session() as s:
            outbox.mark_attempt_failed(s, msg_id, error, give_up=give_up)
