"""Files made later (commands.core.file_jobs): each job reads one consistent snapshot of
the database in a process of its own, while the bot goes on answering in every room.

Why a process, not a thread: a large export renders for seconds of pure Python, and in a
thread it holds the interpreter's lock against the database thread and the event loop
(measured with 100,000 history rows: a trivial unit of database work took 18 ms at the
95th percentile beside an export in a thread, 1.3 ms beside one in a process, 0.2 ms
alone). A process is spawned per job and gone when it is done: it costs memory only
while it runs. It runs at the lowest priority and paces itself (`_yield_the_cpu`): the
file takes about twice as long, and the answers in the rooms hardly notice it
(bench_export_latency). It opens its own connection and reads in one snapshot
(storage.snapshot); the file comes back through a pipe and is stored by the database
thread in one short transaction: SQLite has one writer, and that thread is it (with its
retries while the database is away). The thread that waits for the process is idle.

What a job owes is in the outbox (`file_job`), stored in the command's transaction; on
start every row still waiting for its file is made again. A job that fails, outlasts
TIME_LIMIT or whose process dies is logged with a reference code, and the member gets
the bot's internal-error answer in the file's place: a job is never tried again. Only
the database being away is waited out, as everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bot.runtime.dbthread import DbThread
from bot.runtime.logs import log_context
from bot.runtime.matrix_render import render_reply
from commands.core.effects import Reply
from commands.core.file_jobs import CONFIG_PARAM, FileJob, FileMaker
from commands.core.registry import internal_error, reference_code
from storage import outbox
from storage.db import UNAVAILABLE, Database
from storage.models import OutboxMessage
from storage.snapshot import snapshot

log = logging.getLogger(__name__)

# Two cores: one for a job, one for the bot (and, often, the homeserver beside it).
JOBS_AT_ONCE = 1
# Where SCHED_IDLE is not to be had: the jobs' nice value (the lowest priority).
JOB_NICENESS = 19
# A job's process pauses this long (seconds) after each PACE_RUN of CPU time it used:
# it takes about twice as long, and the bot's answers keep their pace meanwhile.
PACE_RUN = 0.02
PACE_PAUSE = 0.02
# A job still running after this long will not finish: it is ended and answered as failed.
TIME_LIMIT = 15 * 60.0
# Rows waiting for a file are looked for again this often without being woken.
_RECHECK = 60.0

Runner = Callable[[Database, FileMaker, Mapping[str, Any]], bytes]


class JobFailed(Exception):
    """The job's own failure (its maker raised, its process died or ran out of time)."""


class DatabaseAway(Exception):
    """The database did not answer the job: not its failure, the job is made again."""


def make_file(db: Database, make: FileMaker, params: Mapping[str, Any]) -> bytes:
    """One job's file, read in one snapshot, in the caller's thread."""
    with snapshot(db) as s:
        return make(s, params)


def _child(conn: Connection, url: str, secret: bytes, make: FileMaker, params: Any) -> None:
    """The process of one job: its own engine and connection, the file through the pipe."""
    # Ctrl-C or a service manager's TERM reaches the whole group: the bot ends this process
    # itself when it stops, and an interrupted job must not pass for a failed one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _yield_the_cpu()
    try:
        db = Database(url, secret=secret)
        try:
            data = make_file(db, make, params)
        finally:
            db.dispose()
            _stop_pacing()
        conn.send(("made", data))
    except UNAVAILABLE as exc:
        conn.send(("away", f"{exc.__class__.__name__}: {exc}"))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
    finally:
        conn.close()


def _yield_the_cpu() -> None:
    """Behind the bot (and a homeserver beside it) for the CPU: a file may come a little
    later, an answer in a room should not (bench_export_latency).

    The job runs at the lowest priority (on Linux only on time no other process wants:
    SCHED_IDLE), and pauses PACE_PAUSE after every PACE_RUN of CPU time: a process busy
    without a break slowed answers on a two-core machine by half even so (a virtual
    machine's cores are not all its own), one paced like this hardly at all."""
    if hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            os.nice(JOB_NICENESS)
    else:
        os.nice(JOB_NICENESS)
    if hasattr(signal, "setitimer"):
        # Run between two bytecodes of the job, never inside a database call.
        signal.signal(signal.SIGPROF, lambda _sig, _frame: time.sleep(PACE_PAUSE))
        signal.setitimer(signal.ITIMER_PROF, PACE_RUN, PACE_RUN)


def _stop_pacing() -> None:
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_PROF, 0)


class Processes:
    """Runs `make_file` in a process of its own per job; `stop` ends those still running
    (at shutdown: their rows stay owed and are made at the next start)."""

    def __init__(self, time_limit: float = TIME_LIMIT) -> None:
        self.time_limit = time_limit
        # Spawned, not forked: the bot has threads, an event loop and open connections,
        # none of which a forked child could use safely.
        self._context = multiprocessing.get_context("spawn")
        self._live: set[BaseProcess] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def __call__(self, db: Database, make: FileMaker, params: Mapping[str, Any]) -> bytes:
        receiver, sender = self._context.Pipe(duplex=False)
        proc = self._context.Process(
            target=_child,
            args=(sender, db.url, db.secret, make, dict(params)),
            name="gremienbot-file",
            daemon=True,
        )
        with self._lock:
            if self._stopped:
                raise DatabaseAway("the bot is stopping")
            proc.start()
            self._live.add(proc)
        sender.close()
        try:
            if not receiver.poll(self.time_limit):
                raise JobFailed(f"not done after {self.time_limit:.0f} s")
            outcome, value = receiver.recv()
        except EOFError:
            proc.join(5)
            raise JobFailed(f"its process ended ({proc.exitcode})") from None
        finally:
            receiver.close()
            if proc.is_alive():
                proc.kill()
            proc.join()
            with self._lock:
                self._live.discard(proc)
        if outcome == "away":
            raise DatabaseAway(value)
        if outcome == "failed":
            raise JobFailed(value)
        assert isinstance(value, bytes)
        return value

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._live:
                proc.kill()


@dataclass(frozen=True)
class _Pending:
    outbox_id: int
    queue: str
    job: FileJob | None  # None: unreadable, answered as failed

    @classmethod
    def of(cls, row: OutboxMessage) -> _Pending:
        assert row.id is not None
        assert row.file_job is not None
        try:
            job: FileJob | None = FileJob.from_json(row.file_job)
        except (ValueError, KeyError, TypeError):
            job = None
        return cls(row.id, outbox.queue_key(row), job)


class Renderer:
    """Makes the files rows in the outbox wait for, JOBS_AT_ONCE at a time, and tells the
    sender (`on_made`, with the row's queue) once a row may go."""

    def __init__(
        self,
        db: Database,
        dbt: DbThread,
        makers: Mapping[str, FileMaker],
        *,
        language: str,
        on_made: Callable[[str], None] = lambda queue: None,
        separate_process: bool = True,
        max_retry_wait: float = 30.0,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.db = db
        # Handed to every maker under CONFIG_PARAM, never stored (commands.core.file_jobs).
        self.config = dict(config or {})
        self.dbt = dbt
        self.makers = makers
        # The configured language: the failure's answer for a job that cannot be read.
        self.language = language
        self.on_made = on_made
        self.max_retry_wait = max_retry_wait
        self._processes = Processes() if separate_process else None
        self.runner: Runner = make_file if self._processes is None else self._processes
        self._pool = ThreadPoolExecutor(JOBS_AT_ONCE, thread_name_prefix="gremienbot-files")
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        # Outbox row ID → the task making its file.
        self._running: dict[int, asyncio.Task[None]] = {}

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wake(self) -> None:
        """A row may wait for its file (the sender found one): look for jobs now."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._dispatch()
            except Exception:
                log.exception("looking for files to make failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=_RECHECK)
            self._wake.clear()

    async def close(self) -> None:
        """Stop: jobs still running are ended; their rows are made at the next start."""
        self._stop.set()
        self._wake.set()
        if self._processes is not None:
            self._processes.stop()
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self._pool.shutdown, wait=True)

    async def _dispatch(self) -> None:
        free = JOBS_AT_ONCE - len(self._running)
        if free <= 0 or self._stop.is_set():
            return
        found = await self.dbt.run_until_answered(self._pending, set(self._running))
        for pending in found[:free]:
            task = asyncio.create_task(self._make(pending), name=f"file-{pending.outbox_id}")
            self._running[pending.outbox_id] = task
            task.add_done_callback(functools.partial(self._done, pending.outbox_id))

    def _done(self, outbox_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(outbox_id, None)
        self._wake.set()  # the next job, if any

    async def _make(self, pending: _Pending) -> None:
        with log_context(outbox_id=pending.outbox_id):
            failures = 0
            while True:
                try:
                    make, params = self._job(pending)
                    loop = asyncio.get_running_loop()
                    data = await loop.run_in_executor(
                        self._pool, self.runner, self.db, make, params
                    )
                except (DatabaseAway, *UNAVAILABLE) as exc:
                    if self._stop.is_set():
                        return
                    failures += 1
                    log.warning("the database does not answer the file's job (%s); retrying", exc)
                    await asyncio.sleep(min(self.max_retry_wait, 0.25 * 2 ** min(failures, 7)))
                    continue
                except Exception as exc:
                    if self._stop.is_set():
                        return  # ended by the stop: made again at the next start
                    ref = reference_code()
                    _log_failure(pending, ref, exc)
                    await self.dbt.run_until_answered(self._failed, pending, ref)
                else:
                    await self.dbt.run_until_answered(self._made, pending, data)
                break
        self.on_made(pending.queue)

    def run_pending(self) -> int:
        """Make every file still owed, one after another, here and now (in the caller's
        thread, without the database thread): the dialog tests do this after each step.
        How many rows were waiting."""
        found = self._pending(set())
        for pending in found:
            try:
                make, params = self._job(pending)
                data = make_file(self.db, make, params)
            except UNAVAILABLE:
                raise
            except Exception as exc:
                ref = reference_code()
                _log_failure(pending, ref, exc)
                self._failed(pending, ref)
            else:
                self._made(pending, data)
        return len(found)

    def _job(self, pending: _Pending) -> tuple[FileMaker, Mapping[str, Any]]:
        if pending.job is None:
            raise JobFailed("its job cannot be read")
        make = self.makers.get(pending.job.name)
        if make is None:
            raise JobFailed(f"no file job {pending.job.name!r} is declared")
        return make, {**pending.job.params, CONFIG_PARAM: self.config}

    # ------------------------------------------------------------------ in the database

    def _pending(self, skip: set[int]) -> list[_Pending]:
        with self.db.session() as s:
            return [_Pending.of(row) for row in outbox.file_jobs(s, skip=skip)]

    def _made(self, pending: _Pending, data: bytes) -> None:
        with self.db.session() as s:
            row = outbox.get(s, pending.outbox_id)
            if row is None:
                return
            content = json.loads(row.content)
            info = content.get("info") or {}
            content["info"] = {**info, "size": len(data)}
            outbox.file_made(
                s,
                pending.outbox_id,
                filename=str(content.get("filename") or content.get("body") or "file"),
                mimetype=str(info.get("mimetype") or "application/octet-stream"),
                data=data,
                content=content,
            )

    def _failed(self, pending: _Pending, ref: str) -> None:
        lang = pending.job.lang if pending.job is not None else self.language
        content = render_reply(Reply(internal_error(lang, ref)))
        with self.db.session() as s:
            outbox.file_failed(s, pending.outbox_id, content=content)


def _log_failure(pending: _Pending, ref: str, exc: Exception) -> None:
    name = pending.job.name if pending.job is not None else "?"
    if isinstance(exc, JobFailed):
        log.error(
            "file job %s of message %d failed (reference %s): %s", name, pending.outbox_id, ref, exc
        )
    else:
        log.error(
            "file job %s of message %d failed (reference %s)",
            name,
            pending.outbox_id,
            ref,
            exc_info=exc,
        )
