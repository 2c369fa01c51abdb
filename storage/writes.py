"""Which tables a piece of work wrote: what the bot asks before looking at a room's
reminders again after an event (a command that only read, `!liste`, changed nothing due).

`collected()` gathers the names of the tables written by every session used inside it,
in this thread and context: rows flushed by the ORM and INSERT, UPDATE and DELETE
statements run through a session. A part rolled back later still counts: telling of a
change too often costs a look at the room's timers, too seldom a reminder missed.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

# What a statement whose table cannot be named counts as: a change.
UNKNOWN = "?"

_written: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "gremienbot_tables_written", default=None
)


@contextmanager
def collected() -> Iterator[set[str]]:
    """The names of the tables written inside the block (filled as it runs)."""
    found: set[str] = set()
    token = _written.set(found)
    try:
        yield found
    finally:
        _written.reset(token)


def _table_of(obj: Any) -> str:
    mapper = inspect(obj, raiseerr=False)
    table = getattr(getattr(mapper, "mapper", None), "local_table", None)
    return getattr(table, "name", UNKNOWN)


@event.listens_for(OrmSession, "after_flush")
def _note_flushed(db: OrmSession, _context: Any) -> None:
    found = _written.get()
    if found is not None:
        found.update(_table_of(obj) for obj in chain(db.new, db.dirty, db.deleted))


@event.listens_for(OrmSession, "do_orm_execute")
def _note_executed(state: ORMExecuteState) -> None:
    found = _written.get()
    if found is not None and (state.is_insert or state.is_update or state.is_delete):
        table = getattr(state.statement, "table", None)
        found.add(getattr(table, "name", UNKNOWN))
