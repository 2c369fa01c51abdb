"""Answers stored so that neither their keys nor their place tells when they were given.

A row's place follows the order of writing: SQLite keeps a table in the order of its
integer key, PostgreSQL appends every inserted row (and every updated one: an UPDATE writes
a new copy) to its heap, which a SELECT without ORDER BY, `COPY` and `pg_dump` read in that
order, and an autoincrement ID counts up. Votes and free texts would so tell whoever holds
the database, a dump or a backup in which order the members answered, and the homeserver
knows when each member sent something into their direct-message room.

So every change to a poll's votes (or a survey's free texts, or who took part) writes the
whole set again: the old rows deleted, all of them inserted in random order, each under a
fresh random ID (`random_id`). A poll has at most some hundreds of votes; the rewrite is
cheap. Retention, an erasure and migration 0009 use the same rewrite.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, TableClause, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

# IDs fit a signed 64-bit integer (PostgreSQL's BIGINT, SQLite's INTEGER), never 0 or less.
ID_LIMIT = 2**63 - 1


def random_id() -> int:
    return secrets.randbelow(ID_LIMIT - 1) + 1


def rewrite(
    db: Session | Connection,
    table: TableClause,
    where: ColumnElement[bool],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Delete the rows of `table` matching `where` and insert `rows` in random order, each
    with a fresh random `id` when the table has one (an `id` in `rows` is not kept).

    On a Session, objects of the table loaded before are let go (they would be stale);
    callers read the rows as columns, or load them again."""
    fresh = [dict(r) for r in rows]
    random.SystemRandom().shuffle(fresh)
    if "id" in table.c:
        taken: set[int] = set()
        for row in fresh:
            new_id = random_id()
            while new_id in taken:  # (about as likely as guessing a 63-bit number)
                new_id = random_id()
            taken.add(new_id)
            row["id"] = new_id
    if isinstance(db, Session):
        db.flush()  # what the session still holds goes in before the rows are replaced
    db.execute(table.delete().where(where))
    if fresh:
        db.execute(table.insert(), fresh)
    if isinstance(db, Session):
        for obj in list(db.identity_map.values()):
            if getattr(type(obj), "__table__", None) is table:
                db.expunge(obj)


def put(
    db: Session,
    table: TableClause,
    scope: tuple[str, int],
    voter: str,
    column: str,
    value: str,
) -> bool:
    """One voter's answer (`column` = `value`) in the set of `table` rows whose `scope`
    column has the scope's ID (a poll's votes, a survey's free texts): it replaces the
    voter's earlier one, and the whole set is written again (`rewrite`). True when the
    voter had none before. The caller holds the lock on the set's owner."""
    scope_column, scope_id = scope
    where = table.c[scope_column] == scope_id
    found = db.execute(select(table.c.voter, table.c[column]).where(where)).all()
    answers: dict[str, str] = {str(v): str(a) for v, a in found}
    first = voter not in answers
    answers[voter] = value
    rows = [{scope_column: scope_id, "voter": v, column: a} for v, a in answers.items()]
    rewrite(db, table, where, rows)
    return first
