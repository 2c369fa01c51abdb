"""A session that sees the database as it was at one moment and only reads: for a large
whole (an export) read while the bot goes on writing. SQLite in WAL mode keeps a read
transaction's snapshot from its first read on; PostgreSQL does in REPEATABLE READ."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlmodel import Session

from storage.db import Database


@contextmanager
def snapshot(db: Database) -> Iterator[Session]:
    """The snapshot is taken before the block runs: what is committed after that, by any
    connection, is not seen by it."""
    with db.session(write=False) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            s.execute(text("SELECT 1"))
        else:
            # A deferred BEGIN reads nothing yet: this first read of the file fixes the
            # snapshot (a SELECT without a table would not).
            s.execute(text("SELECT count(*) FROM sqlite_master"))
        yield s
