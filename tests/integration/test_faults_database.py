"""The database goes away for a while and comes back; the bot carries on by itself.

(a) PostgreSQL is stopped and started again while members keep writing. The test runs
its own PostgreSQL server in a temporary directory (never the machine's main cluster,
which other tests use). (b) Another process holds an exclusive lock on the bot's SQLite
file for longer than the bot's busy timeout (5 s), as a backup tool or an operator's
`sqlite3` shell might.

Commands written meanwhile wait (each is one transaction: retried whole, never half
stored) and are answered once the database answers again, in the order sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from sqlmodel import select

from bot.devtools.synapse import LocalSynapse
from storage.db import SQLITE_BUSY_TIMEOUT_MS
from storage.models.reminders import ReminderLog
from tests.integration.conftest import PASSWORD, MemberFactory, unique, write_config
from tests.integration.fault_helpers import (
    Command,
    assert_agreements_stored_once,
    assert_answered_once_in_order,
    assert_posted_what_the_outbox_holds,
    committee,
    expected_answer,
    from_bot,
    meeting_script,
    send,
    settled,
    wait_for_answers,
)
from tests.integration.reminder_helpers import (
    database,
    insert_reminder,
    start_bot,
    stop_bot,
    utcnow,
)

pytestmark = pytest.mark.synapse

# The newest PostgreSQL installed (Debian keeps each major version's binaries apart).
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: int(p.parent.name),
    default=Path("/nonexistent"),
)
COMMANDS = 40
REMINDER = "Tischvorlage verschicken"
OUTAGE = 6.5  # seconds: longer than the busy timeout, and several retries long


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """A PostgreSQL server of this test alone: initdb in a temporary directory, run as the
    `postgres` user, trust authentication on 127.0.0.1 and a port of its own."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gremienbot-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def create(self) -> None:
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def connect(self) -> Any:
        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres")

    def lock_table(self, table: str) -> Any:
        """Another session locks `table` (until its connection is closed or cut)."""
        conn = self.connect()
        conn.cursor().execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        return conn

    def wait_for_waiters(self, timeout: float = 30) -> None:
        """Until some session waits for a lock."""
        deadline = time.monotonic() + timeout
        with contextlib.closing(self.connect()) as conn:
            conn.autocommit = True
            while time.monotonic() < deadline:
                with conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    row = cur.fetchone()
                if row is not None and row[0] > 0:
                    return
                time.sleep(0.05)
        raise TimeoutError("nobody waited for the lock")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or not shutil.which("runuser"):
        # Never a silent skip: the database fault is part of what the suite shows.
        pytest.fail("needs root, PostgreSQL's server binaries and runuser for a private server")
    pg = PrivatePostgres()
    try:
        pg.create()
        pg.start()
        yield pg
    finally:
        pg.remove()


async def _meeting_through_an_outage(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    *,
    outage: Callable[[], Coroutine[Any, Any, None]],
    caplog: pytest.LogCaptureFixture,
    **config: object,
) -> None:
    """Members write steadily; `outage` takes the database away and brings it back while
    they do. Then everything is checked."""
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.INFO, logger="bot.runtime.dbthread")
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config_path = write_config(tmp_path, synapse, localpart, **config)
    bot, task = await start_bot(config_path)
    try:
        bot_user = bot.config.user_id
        members = list(await asyncio.gather(make_member("anna"), make_member("ben")))
        room = await committee(members, bot_user, "Steuerungsgruppe")
        script = meeting_script("D", COMMANDS, len(members))
        sent: list[str] = []

        async def write(part: list[Command]) -> None:
            for cmd in part:
                sent.append(await send(members[cmd.sender], room, cmd.body))
                await asyncio.sleep(0.1)  # people typing, not a script

        await write(script[:10])  # answered before the outage
        db = database(config_path)
        try:
            # A reminder falls due during the outage.
            insert_reminder(
                db,
                room,
                text=REMINDER,
                due_at=utcnow() + dt.timedelta(seconds=3),
                created_by=members[0].user_id,
                created_at=utcnow(),
            )
        finally:
            db.dispose()
        bot.scheduler.poke(room)
        outage_task = asyncio.create_task(outage())
        await write(script[10:20])  # during it
        # A committee invites the bot while the database is away.
        new_room = await members[0].create_room("Arbeitsgruppe", invite=(bot_user,))
        await write(script[20:30])
        await outage_task
        back = utcnow()
        assert not task.done(), "the bot must survive the outage"
        await write(script[30:])  # after it
        await wait_for_answers(
            members[0],
            bot_user,
            {room: sent},
            timeout=120,
            also=lambda rooms: bool(from_bot(rooms[room], bot_user, REMINDER)),
        )
        await members[0].wait_for_member(new_room, bot_user, timeout=60)
        await members[0].send(new_room, "!liste")
        await members[0].wait_for_reply(new_room, bot_user, 0, timeout=30)
        said = (await settled(members[0], [room]))[room]
        assert_answered_once_in_order(said, bot_user, sent, expect=expected_answer(script))
        [reminder] = from_bot(said, bot_user, REMINDER)
        assert reminder.sent_at - back < dt.timedelta(seconds=15), "the reminder came late"
        db = database(config_path)
        try:
            assert_agreements_stored_once(db, room, script)
            assert_posted_what_the_outbox_holds(db, room, said, bot_user)
            with db.session() as s:
                assert len(s.exec(select(ReminderLog)).all()) == 1
        finally:
            db.dispose()
        assert any("the database answers again" in r.getMessage() for r in caplog.records), (
            "the outage was not noticed: the test did not test it"
        )
        # An unavailable database is an operating condition, logged as a warning; errors
        # with a traceback would mean some part took it for a bug of its own.
        errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
        assert not errors, errors
    finally:
        await stop_bot(bot, task)


async def test_commands_sent_while_postgresql_restarts_are_answered_once_it_is_back(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    private_postgres: PrivatePostgres,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL is stopped (fast shutdown: open connections are cut) for several
    seconds while commands arrive, then started again; the bot is not restarted.
    Afterwards every command is answered once, in order, and stored once with its
    history; no answer is an internal error."""
    pg = private_postgres

    async def restart_postgres() -> None:
        # The server goes away while a command is being carried out: the next command
        # that touches the agreements waits for a lock, then the shutdown cuts it off.
        lock = await asyncio.to_thread(pg.lock_table, "agreement")
        try:
            await asyncio.to_thread(pg.wait_for_waiters)
            await asyncio.to_thread(pg.stop)
        finally:
            lock.close()
        await asyncio.sleep(OUTAGE)
        await asyncio.to_thread(pg.start)

    await _meeting_through_an_outage(
        synapse,
        make_member,
        tmp_path,
        outage=restart_postgres,
        caplog=caplog,
        database={"url": pg.url},
    )


async def test_commands_sent_while_another_process_locks_the_sqlite_file_are_answered_after(
    synapse: LocalSynapse,
    make_member: MemberFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A second process holds `BEGIN EXCLUSIVE` on the bot's SQLite file for longer than
    the busy timeout while commands arrive. Afterwards every command is answered once, in
    order, and stored once with its history; no answer is an internal error."""
    path = tmp_path / "data" / "gremienbot.db"
    hold = OUTAGE
    assert hold > SQLITE_BUSY_TIMEOUT_MS / 1000

    async def lock_the_file() -> None:
        await asyncio.sleep(0.5)
        locker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "c.execute('ROLLBACK')\n",
            str(path),
            str(hold),
            stdout=asyncio.subprocess.PIPE,
        )
        assert locker.stdout is not None
        assert (await locker.stdout.readline()).strip() == b"locked"
        assert await locker.wait() == 0

    await _meeting_through_an_outage(
        synapse, make_member, tmp_path, outage=lock_the_file, caplog=caplog
    )
