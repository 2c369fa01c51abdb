"""The sync loop: long-polls the homeserver, hands each room's new events to the pipeline,
and keeps the encryption keys up to date. Lost connections are retried with capped backoff.

The sync token lives in the bot's database; the pipeline's watermark saves it once the
events before it are handled (bot.runtime.pipeline)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nio import AsyncClient, SyncError, SyncResponse

from bot.runtime.dbthread import DbThread
from bot.runtime.pipeline import Pipeline, RoomBatch
from storage import events
from storage.db import Database

log = logging.getLogger(__name__)

TIMELINE_LIMIT = 50
# A sync that has not come back this long after its long-poll timeout counts as failed
# (metrics, /healthz); the first one carries every room's state and may take longer.
STALL_GRACE = 10.0
STALL_GRACE_FIRST = 120.0


def sync_filter(user_id: str) -> dict[str, Any]:
    """What the bot syncs: rooms' timelines without its own messages, no presence."""
    # The bot never acts on its own messages. Let through, each answer would come back in
    # a sync of its own, parsed (and the next long-poll set up) just when the member's
    # client fetches it; left out, they make the homeserver's next sync dearer (its
    # timeline no longer continues the previous one), which costs less: measured in
    # tests/benchmarks/bench_command_latency.py.
    # A larger timeline than the default 10 makes gaps (and paging back) rarer.
    return {
        "room": {"timeline": {"not_senders": [user_id], "limit": TIMELINE_LIMIT}},
        "presence": {"not_types": ["*"]},
    }


class SyncLoop:
    def __init__(
        self,
        client: AsyncClient,
        db: Database,
        dbt: DbThread,
        *,
        user_id: str,
        timeout_ms: int,
        max_retry_wait: float,
        pipeline: Callable[[], Pipeline],
        on_synced: Callable[[SyncResponse, int], Awaitable[None]],
        on_failed: Callable[[str], None],
        on_request: Callable[[], None],
    ) -> None:
        self.client = client
        self.db = db
        self.dbt = dbt
        self.timeout_ms = timeout_ms
        self.max_retry_wait = max_retry_wait
        self.pipeline = pipeline
        self.on_synced = on_synced
        self.on_failed = on_failed
        self.on_request = on_request
        self._stop = asyncio.Event()
        # The task of run() while it waits for a sync: stop() cancels that wait.
        self._polling: asyncio.Task[Any] | None = None
        self._poll_cancelled = False
        self.filter = sync_filter(user_id)

    def stop(self) -> None:
        self._stop.set()
        if self._polling is not None and not self._poll_cancelled:
            self._poll_cancelled = True
            self._polling.cancel()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        token = await self.dbt.run_until_answered(self._load_token)
        # nio keeps no rooms across restarts: the first sync of a process carries the full
        # state of every joined room (and returns at once), or the bot could not post into
        # a room where nothing happened while it was down.
        first = True
        failures = 0
        seq = 0
        while not self._stop.is_set():
            self.on_request()
            reason = ""
            try:
                resp = await self._sync(token, first=first)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if self._poll_cancelled and task is not None and task.uncancel() == 0:
                    break  # stop() ended the long-poll
                raise
            except Exception as exc:  # network loss: keep going, with backoff
                resp = None
                reason = f"{exc.__class__.__name__}: {exc}"
                log.warning("sync failed: %s", exc)
            if not isinstance(resp, SyncResponse):
                if isinstance(resp, SyncError):
                    reason = f"{resp.status_code or ''} {resp.message}".strip()
                    log.warning("sync error: %s", resp.message)
                failures += 1
                self.on_failed(reason or "no answer")
                await self.sleep(min(self.max_retry_wait, 0.5 * 2 ** min(failures, 6)))
                continue
            failures = 0
            first = False
            seq += 1
            batches = room_batches(resp, seq, since=token)
            token = resp.next_batch
            await self._key_maintenance()
            await self.on_synced(resp, seq)
            await self.pipeline().submit(seq, token, batches)
            # The rooms' workers take up their events before the next long-poll is set up.
            await asyncio.sleep(0)

    async def _sync(self, token: str | None, *, first: bool) -> SyncResponse | SyncError:
        """One sync, awaited in this task: the events it brings go on at once, not one turn
        of the event loop later (stop() cancels the long-poll instead)."""
        # nio retries a refused connection by itself, for ever: a homeserver that is
        # away shows only as a sync that does not come back. Said once, then waited on.
        stalled_after = STALL_GRACE_FIRST if first else self.timeout_ms / 1000 + STALL_GRACE
        stalled = asyncio.get_running_loop().call_later(stalled_after, self._stalled, stalled_after)
        self._polling = asyncio.current_task()
        try:
            return await self.client.sync(
                timeout=0 if first else self.timeout_ms,
                sync_filter=self.filter,
                since=token,
                full_state=first,
            )
        finally:
            self._polling = None
            stalled.cancel()

    def _stalled(self, seconds: float) -> None:
        log.warning("the homeserver has not answered a sync for %.0f s", seconds)
        self.on_failed(f"the homeserver has not answered for {seconds:.0f} s")

    async def _key_maintenance(self) -> None:
        client = self.client
        try:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
        except Exception:
            log.exception("key maintenance failed; retried after the next sync")

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    def _load_token(self) -> str | None:
        with self.db.session() as s:
            return events.get_state(s, events.SYNC_TOKEN)

    async def save_token(self, token: str) -> None:
        await self.dbt.run_until_answered(self._save_token, token)

    def _save_token(self, token: str) -> None:
        with self.db.session() as s:
            events.set_state(s, events.SYNC_TOKEN, token)


def room_batches(resp: SyncResponse, seq: int, *, since: str | None) -> list[RoomBatch]:
    """Each joined room's new events; a limited timeline also names the gap before it.

    Without a previous token (the very first start) there is nothing to catch up: what
    was said before the bot joined is not its business.
    """
    batches: list[RoomBatch] = []
    for room_id, info in resp.rooms.join.items():
        timeline = info.timeline
        gap = timeline.prev_batch if timeline.limited and since is not None else None
        if timeline.events or gap:
            batches.append(
                RoomBatch(room_id, seq, list(timeline.events), gap_from=gap, gap_to=since)
            )
    return batches
