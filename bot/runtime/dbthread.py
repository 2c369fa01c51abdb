"""Database work off the event loop: one worker thread, so SQLite sees a single writer."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from storage.db import UNAVAILABLE

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)

# The database is away (PostgreSQL restarting, SQLite locked by another process): what
# needed it is retried until it answers (UNAVAILABLE), never skipped and never half-done
# (each unit of work is one transaction).


class DbThread:
    def __init__(self, *, max_retry_wait: float = 30.0) -> None:
        self.max_retry_wait = max_retry_wait
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gremienbot-db")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        # The caller's context (the room and event it logs about) goes along.
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._pool, lambda: context.run(fn, *args, **kwargs))

    async def run_until_answered(
        self,
        fn: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like `run`, but while the database does not answer, wait and try again."""
        failures = 0
        while True:
            try:
                result = await self.run(fn, *args, **kwargs)
            except UNAVAILABLE as exc:
                failures += 1
                if failures == 1:
                    log.warning(
                        "the database does not answer (%s); retrying", exc.__class__.__name__
                    )
                await asyncio.sleep(min(self.max_retry_wait, 0.25 * 2 ** min(failures, 7)))
                continue
            if failures:
                log.info("the database answers again after %d attempts", failures)
            return result

    def close(self) -> None:
        self._pool.shutdown(wait=True)
