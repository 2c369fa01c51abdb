"""From a sync to handled events: one ordered queue per room, rooms side by side.

Each sync's timeline of a room becomes a `RoomBatch`. A room's batches are handled one
after another by that room's worker, so commands are answered in the order they were
sent; rooms do not wait for each other, so a room waiting for a room key or paging back
through a long gap never holds up another. The sync loop does not wait either: it goes
on syncing (which brings the room keys an encrypted command may be waiting for).

A limited timeline (more happened than one sync carries: the bot was down, or a burst
arrived) has a gap before its first event. The worker fills it first by paging back
with `/messages` from the timeline's `prev_batch` to the token of the previous sync, so
nothing in between is skipped.

The sync token is saved only once every batch of that sync and of all earlier ones is
handled (`Watermark`): after a crash the bot syncs again from a point before anything it
had not finished, and what it had finished is recognised by its event ID.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nio import AsyncClient, MessageDirection, RoomMessagesResponse

log = logging.getLogger(__name__)

# Events fetched per /messages request while filling a gap, and the most requests per
# gap: a gap longer than that (weeks of a busy room) is filled as far as this reaches,
# with a warning; the catch-up horizon answers older commands anyway.
PAGE_SIZE = 100
MAX_PAGES = 100
# A page the homeserver does not give (a reverse proxy's 502 while it restarts, an
# overloaded server) is asked for again, with backoff, this often: about four minutes
# in production. Only then is the rest of the gap given up, with an error in the log;
# the room waits meanwhile (the others do not), and so do reminders, which are posted
# only once the commands sent before them are handled.
PAGE_ATTEMPTS = 14
# The homeserver says the bot may not read the room (it was removed): no use asking again.
_PERMANENT_PAGE_ERRORS = frozenset({"M_FORBIDDEN", "M_NOT_FOUND"})


@dataclass
class RoomBatch:
    room_id: str
    seq: int
    events: list[Any]
    # Set when the timeline was limited: where its events begin (`prev_batch`) and the
    # token of the sync before it, up to which the gap is filled.
    gap_from: str | None = None
    gap_to: str | None = None
    # When its sync came back (time.monotonic()): the debug log tells how long it took.
    synced_at: float = field(default_factory=time.monotonic)


class Watermark:
    """Saves the token of sync N once sync N and every earlier one are fully handled.

    Saving is a write in the database thread; it is done beside the handling, at most
    every `save_every` seconds, so it never delays an answer. After a crash the token is
    at most that much older: the events since are recognised as handled by their IDs.
    """

    def __init__(self, save: Callable[[str], Awaitable[None]], save_every: float = 1.0) -> None:
        self.save = save
        self.save_every = save_every
        self._open: dict[int, int] = {}
        self._tokens: dict[int, str] = {}
        self._handled = -1
        self._handled_token: str | None = None
        self._saved_token: str | None = None
        self._last_save = -1e9
        self._saver: asyncio.Task[None] | None = None
        self._advanced = asyncio.Condition()

    def opened(self, seq: int, token: str, batches: int) -> None:
        self._tokens[seq] = token
        self._open[seq] = batches

    def closed(self, seq: int) -> None:
        self._open[seq] -= 1

    @property
    def pending(self) -> int:
        return sum(self._open.values())

    async def advance(self) -> None:
        done: int | None = None
        for seq in sorted(self._open):
            if self._open[seq] > 0:
                break
            done = seq
        if done is None or done <= self._handled:
            return
        self._handled, self._handled_token = done, self._tokens[done]
        for seq in [s for s in self._open if s <= done]:
            del self._open[seq]
            del self._tokens[seq]
        if self._saver is None or self._saver.done():
            self._saver = asyncio.create_task(self._save_soon(), name="save-sync-token")
        async with self._advanced:
            self._advanced.notify_all()

    async def _save_soon(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self._last_save + self.save_every - loop.time()))
        await self.flush()

    async def flush(self) -> None:
        """Save the latest fully handled token now (also at shutdown)."""
        token = self._handled_token
        if token is None or token == self._saved_token:
            return
        await self.save(token)
        self._saved_token = token
        self._last_save = asyncio.get_running_loop().time()

    async def handled(self, seq: int) -> None:
        """Until sync `seq` and every earlier one are handled."""
        async with self._advanced:
            await self._advanced.wait_for(lambda: self._handled >= seq)


HandleEvent = Callable[[str, Any], Awaitable[None]]


class Pipeline:
    def __init__(
        self,
        client: AsyncClient,
        *,
        handle: HandleEvent,
        watermark: Watermark,
        user_id: str,
        prepare: Callable[[str, list[Any]], Awaitable[None]] | None = None,
        joined_at: Callable[[str], Awaitable[int | None]] | None = None,
        max_retry_wait: float = 30.0,
    ) -> None:
        self.client = client
        self.max_retry_wait = max_retry_wait
        self.handle = handle
        self.prepare = prepare
        # When the bot joined a room (ms since the epoch): paging back stops there, what
        # was said before is not its business (a first sync after joining a busy room).
        self.joined_at = joined_at
        self.watermark = watermark
        self.user_id = user_id
        self._queues: dict[str, asyncio.Queue[RoomBatch]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    async def submit(self, seq: int, token: str, batches: list[RoomBatch]) -> None:
        """Queue one sync's batches; its token is saved when they all are handled."""
        self.watermark.opened(seq, token, len(batches))
        if not batches:
            await self.watermark.advance()
            return
        for batch in batches:
            queue = self._queues.setdefault(batch.room_id, asyncio.Queue())
            queue.put_nowait(batch)
            worker = self._workers.get(batch.room_id)
            if worker is None or worker.done():
                self._workers[batch.room_id] = asyncio.create_task(
                    self._work(batch.room_id, queue), name=f"room-{batch.room_id}"
                )

    async def stop(self) -> None:
        for worker in list(self._workers.values()):
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        await self.watermark.flush()

    async def _work(self, room_id: str, queue: asyncio.Queue[RoomBatch]) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            try:
                await self._handle_batch(batch)
                log.debug(
                    "%d event(s) of %s handled %.1f ms after their sync",
                    len(batch.events),
                    room_id,
                    (time.monotonic() - batch.synced_at) * 1000,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                # Only a bug gets here (handlers answer bad input, the database is
                # retried): the room goes on with its next batch, the others never notice.
                log.exception("handling a sync batch of %s failed", room_id)
            finally:
                self.watermark.closed(batch.seq)
                await self.watermark.advance()
        if self._workers.get(room_id) is asyncio.current_task():
            del self._workers[room_id]

    async def _handle_batch(self, batch: RoomBatch) -> None:
        events = batch.events
        if batch.gap_from is not None:
            events = await self._fill_gap(batch) + events
        if self.prepare is not None:
            await self.prepare(batch.room_id, events)
        for event in events:
            await self.handle(batch.room_id, event)

    async def _fill_gap(self, batch: RoomBatch) -> list[Any]:
        """The events between the previous sync and this timeline, oldest first."""
        found: list[Any] = []
        start = batch.gap_from
        floor = await self.joined_at(batch.room_id) if self.joined_at is not None else None
        for _ in range(MAX_PAGES):
            resp = await self._page(batch, start)
            if resp is None:
                break
            found.extend(resp.chunk)
            if not resp.chunk or not resp.end or resp.end == start:
                break
            oldest = getattr(resp.chunk[-1], "server_timestamp", None)
            if floor is not None and isinstance(oldest, int) and oldest < floor:
                break
            start = resp.end
        else:
            log.warning(
                "gap in %s longer than %d events: older ones are not handled",
                batch.room_id,
                PAGE_SIZE * MAX_PAGES,
            )
        if found:
            log.info("filled a gap of %d events in %s", len(found), batch.room_id)
        found.reverse()
        return found

    async def _page(self, batch: RoomBatch, start: str | None) -> RoomMessagesResponse | None:
        """One page of the gap; asked again while the homeserver does not give it."""
        for attempt in range(1, PAGE_ATTEMPTS + 1):
            try:
                resp = await self.client.room_messages(
                    batch.room_id,
                    start=start,
                    end=batch.gap_to,
                    direction=MessageDirection.back,
                    limit=PAGE_SIZE,
                    message_filter={"not_senders": [self.user_id]},
                )
            except Exception as exc:  # a broken answer: as good as none
                resp = None
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if isinstance(resp, RoomMessagesResponse):
                    return resp
                problem = str(resp)
            code = getattr(resp, "status_code", None)
            if code in _PERMANENT_PAGE_ERRORS or attempt == PAGE_ATTEMPTS:
                log.error(
                    "could not page back in %s (%s): the events before this sync's are not handled",
                    batch.room_id,
                    problem,
                )
                return None
            log.warning(
                "could not page back in %s (%s); asking again (attempt %d)",
                batch.room_id,
                problem,
                attempt,
            )
            await asyncio.sleep(min(self.max_retry_wait, 0.5 * 2 ** (attempt - 1)))
        return None
