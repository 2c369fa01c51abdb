"""Engine and sessions: SQLite (file, WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 5000
# Values per IN (…) list: SQLite allows at most 32,766 bound parameters in a statement.
IN_CHUNK = 500

T = TypeVar("T")


def in_chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """Long lists of IDs, in pieces small enough for one IN (…) each."""
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


# The database does not answer (PostgreSQL restarting, SQLite locked by another process):
# no fault of the work being done. The unit of work (one transaction) is rolled back and
# done again once the database answers (bot.runtime.dbthread); nobody may treat it as
# the work's own failure.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# The database holds personal data: readable by the bot's user only, whatever the umask.
FILE_MODE = 0o600
# SQLite's companions of a database file in WAL mode.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: in memory, or no SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def protect_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it, and make it and its -wal and
    -shm files 0600 should they exist with another mode (an older version, a copied
    volume). SQLite creates -wal and -shm with the mode of the database file."""
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.close(fd)
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            if companion.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(companion, FILE_MODE)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None and path.parent.is_dir():
            _protect_quietly(path)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if path is not None:
            # WAL and shared-memory files appear with the first connection.
            event.listen(engine, "connect", lambda _c, _r: _protect_quietly(path))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs; SQLAlchemy emits BEGIN instead.
    dbapi_conn.isolation_level = None
    # As mautrix runs SQLite: referential integrity, concurrent readers, durable enough.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


def _protect_quietly(path: Path) -> None:
    # A read-only copy of someone else's file may still be read; the modes are best effort.
    with contextlib.suppress(PermissionError):
        protect_sqlite_file(path)


# An execution option of the engine a read-only session binds to (`Database.session`).
READ_ONLY = "gremienbot_read_only"


def _sqlite_begin(conn: Connection) -> None:
    # A deferred BEGIN that reads and then writes cannot wait for another writer: when that
    # one commits first, SQLite refuses the upgrade at once (SQLITE_BUSY) whatever the busy
    # timeout. IMMEDIATE takes the write lock up front, so a second writer (the bot, `forget`,
    # `import`) waits out the busy timeout instead. WAL readers are not blocked by it, and
    # pure reads keep a deferred BEGIN, so they neither wait for nor hold up a writer.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# The key of `keyed`, kept in `Session.info` of every session a `Database` opens.
SECRET_INFO = "gremienbot.secret"
# Without a secret handed in (tests, command-line tools that queue nothing) a key of this
# process: never an unkeyed hash. The bot always hands in its `voter.key`.
_PROCESS_SECRET = secrets.token_bytes(32)


def keyed(secret: bytes, scope: str, value: str) -> str:
    """64 hex digits for `value` in `scope` under `secret` (HMAC-SHA256): what the database
    keeps instead of something that would name a member (an outbox key holding a user ID,
    the ID of an event in a member's direct-message room). Without the secret, which is
    not in the database, nobody can compute it for a guessed value."""
    return hmac.new(secret, f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()


def secret_of(db: Session) -> bytes:
    """The key of the database a session belongs to (see `Database`)."""
    found = db.info.get(SECRET_INFO)
    return found if isinstance(found, bytes) else _PROCESS_SECRET


class Database:
    """The bot's database. `secret` (the bot's `voter.key`, which is kept apart from the
    database) keys what storage hashes so that the database alone cannot be read back:
    outbox transaction IDs and handled events of direct-message rooms. Every session
    carries it (`secret_of`)."""

    def __init__(self, url: str, *, secret: bytes | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        # The same engine and pool; its transactions begin deferred on SQLite.
        self.reader = self.engine.execution_options(**{READ_ONLY: True})
        self.secret = secret or _PROCESS_SECRET

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error. On SQLite it
        holds the write lock from its start (see `_sqlite_begin`); `write=False` for a
        session that only reads (an export, a metrics scrape), which then neither waits for
        a writer nor holds one up. Such a session must not write: SQLite would refuse the
        upgrade at once while another process writes."""
        bind = self.engine if write else self.reader
        with Session(bind, expire_on_commit=False, info={SECRET_INFO: self.secret}) as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
