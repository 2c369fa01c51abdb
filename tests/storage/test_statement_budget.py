"""How many SQL statements one command costs, from the event's arrival to its commit.

A command that needs nothing from a meeting, a setting or a poll does not query them
(issue 21): `!hilfe`, `!liste` and `!verabredung` each stay within `BUDGET` statements in
all, the bot's own part of handling a command event within `BOT_BUDGET`. Measured on
SQLite and on PostgreSQL, the way the running bot handles an event (the dialog's bot:
bot.runtime.events → bot.runtime.incoming, the real registry, the real outbox).

What counts: every statement the database driver is asked to execute
(`before_cursor_execute`) that reads or writes data. Transaction control (BEGIN
[IMMEDIATE], COMMIT, ROLLBACK, SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO SAVEPOINT) is
counted apart and bounded by `CONTROL_BUDGET`: it reads and writes no data, and what issue
21 is about is queries a command does not need; how many of it there are depends on the
driver (pysqlite's own transaction handling is off, so storage.db issues SQLite's BEGIN
itself; psycopg2's BEGIN is implicit; COMMIT is the driver's `commit()`, no cursor
execute, on both) rather than on what a command does.

The statements run while `Registry.dispatch` runs (its savepoint and the handler) are
the handler's, the others the bot's; a failure lists both. Not counted: the room's pending
messages that the bot reads for its sender after the command's commit, in the same turn
of the database thread (`EventHandlers._answer`): that read is the sender's, which it used
to make on its own, and belongs to sending, not to handling the command.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from commands.core.context import Context
from commands.core.effects import AnyEffect
from storage import meetings, outbox
from storage.db import Database
from storage.models import Agreement, AgreementOwner, OutboxMessage
from tests import seed
from tests.dialog import ANNA, BEN, CARLA, CHAIR, ROOM, Dialog, Sent

OTHER_ROOM = "!anderes:example.org"

# The bot's own statements for a command event, whatever the command: one query for all
# the event needs to know (handled already? the room and its join, a direct-message room?,
# its settings, the sender's role, whether a meeting runs), the reply stored in the
# outbox, the mark that the event was handled.
BOT_BUDGET = 3
# A whole command, the bot's part and its handler's (issue 21): `!hilfe` needs nothing
# more, `!liste` one query for the page of agreements with their count and one for their
# owners, `!verabredung` the agreement's insert (its number taken in it), its history
# row, its owners.
BUDGET = 6
# Transaction control: the BEGIN (SQLite's, see above) and Registry.dispatch's savepoint
# (SAVEPOINT, RELEASE) once a handler touches the database.
CONTROL_BUDGET = 3
# How a statement that controls the transaction starts (ROLLBACK TO SAVEPOINT, RELEASE
# SAVEPOINT included).
CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
# How much of a statement's parameters a failure shows (an outbox row's content is long).
PARAMS_SHOWN = 120


@dataclass
class Statements:
    """The statements executed during one event's handling, by whose they are; those that
    control the transaction are listed too but counted apart (`control`)."""

    bot: list[str] = field(default_factory=list)
    handler: list[str] = field(default_factory=list)
    in_handler: bool = False
    for_sender: bool = False

    def note(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if self.for_sender:
            return
        shown = repr(params)
        shown = shown if len(shown) <= PARAMS_SHOWN else shown[:PARAMS_SHOWN] + "…"
        line = f"{' '.join(statement.split())}  -- {shown}"
        (self.handler if self.in_handler else self.bot).append(line)

    @staticmethod
    def data(lines: list[str]) -> list[str]:
        return [line for line in lines if not CONTROL.match(line)]

    @property
    def control(self) -> list[str]:
        return [line for line in self.bot + self.handler if CONTROL.match(line)]

    def listing(self) -> str:
        def numbered(title: str, lines: list[str]) -> str:
            def mark(line: str) -> str:
                return f"({line})" if CONTROL.match(line) else line

            return "\n".join([title, *(f"  {n}. {mark(s)}" for n, s in enumerate(lines, start=1))])

        return "\n".join(
            [
                "(transaction control in brackets)",
                numbered("the bot's:", self.bot),
                numbered("the handler's:", self.handler),
            ]
        )


@contextmanager
def counting(database: Database, dialog: Dialog) -> Iterator[Statements]:
    """Count the statements of the next event the dialog's bot handles (not the dialog's
    own reads before and after it: the join, delivering the outbox)."""
    seen = Statements()
    bot, registry = dialog.bot, dialog.registry
    handle, dispatch, pending_of = bot.handle, registry.dispatch, outbox.pending_of

    def handle_counted(room: Any, ev: Any) -> int:
        event.listen(database.engine, "before_cursor_execute", seen.note)
        try:
            return handle(room, ev)
        finally:
            event.remove(database.engine, "before_cursor_execute", seen.note)

    def dispatch_marked(ctx: Context, body: str) -> list[AnyEffect] | None:
        seen.in_handler = True
        try:
            return dispatch(ctx, body)
        finally:
            seen.in_handler = False

    def pending_for_sender(s: Session, room_id: str) -> list[OutboxMessage]:
        seen.for_sender = True
        try:
            return pending_of(s, room_id)
        finally:
            seen.for_sender = False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot, "handle", handle_counted)
        patch.setattr(registry, "dispatch", dispatch_marked)
        patch.setattr(outbox, "pending_of", pending_for_sender)
        yield seen


def handled(
    dialog: Dialog, database: Database, say: Callable[[], list[Sent]]
) -> tuple[list[Sent], Statements]:
    with counting(database, dialog) as seen:
        replies = say()
    return replies, seen


def within_budget(command: str, seen: Statements) -> None:
    bot, handler = Statements.data(seen.bot), Statements.data(seen.handler)
    summary = (
        f"{command}: {len(bot)} + {len(handler)} statements, at most {BOT_BUDGET} of the bot's"
        f" and {BUDGET} in all; {len(seen.control)} of transaction control, at most"
        f" {CONTROL_BUDGET}"
    )
    assert len(bot) <= BOT_BUDGET, f"{summary}:\n{seen.listing()}"
    assert len(bot) + len(handler) <= BUDGET, f"{summary}:\n{seen.listing()}"
    assert len(seen.control) <= CONTROL_BUDGET, f"{summary}:\n{seen.listing()}"


@pytest.fixture
def room(db: Database) -> Dialog:
    """A committee room with a setting of its own and a few dozen agreements, in which
    the bot has already answered a command (its first event needs nothing more)."""
    dialog = Dialog(db)
    with db.session() as s:
        seed.room(
            s,
            ROOM,
            joined_at=dialog.now - dt.timedelta(days=30),
            settings={"timezone": "Europe/Berlin"},
        )
        for n in range(36):
            seed.agreement(
                s,
                ROOM,
                f"Punkt {n + 1} vorbereiten",
                by=BEN,
                at=dialog.now - dt.timedelta(days=20 - n // 2),
                owners=[(ANNA, BEN, CARLA)[n % 3]],
                due=dialog.now.date() + dt.timedelta(days=n % 9),
            )
    dialog.say(CARLA, "!hilfe")
    return dialog


def test_help_stays_within_the_budget(room: Dialog, db: Database) -> None:
    replies, seen = handled(room, db, lambda: room.say(ANNA, "!hilfe"))
    [reply] = replies
    assert "!verabredung" in reply.body
    within_budget("!hilfe", seen)


def test_listing_stays_within_the_budget(room: Dialog, db: Database) -> None:
    replies, seen = handled(room, db, lambda: room.say(ANNA, "!liste"))
    [reply] = replies
    assert "(36)" in reply.body
    assert "Punkt 1 vorbereiten" in reply.body
    within_budget("!liste", seen)


def test_recording_stays_within_the_budget(room: Dialog, db: Database) -> None:
    command = "!verabredung Bericht an das Schulamt bis Freitag @anna"
    replies, seen = handled(room, db, lambda: room.say(ANNA, command, mentions=(ANNA,)))
    [reply] = replies
    assert "#37" in reply.body
    with db.session() as s:
        recorded = s.exec(select(Agreement).where(Agreement.number == 37)).one()
        owners = s.exec(
            select(AgreementOwner.user_id).where(col(AgreementOwner.agreement_id) == recorded.id)
        ).all()
    assert recorded.text == "Bericht an das Schulamt"
    assert owners == [ANNA]
    within_budget("!verabredung", seen)


def test_while_a_meeting_runs_a_command_notes_its_sender_as_present(
    room: Dialog, db: Database
) -> None:
    """The attendance listener is skipped only while no meeting runs in the room: during
    one, the same query finds it running and the sender of a command is noted."""
    with db.session() as s:
        seed.room(s, OTHER_ROOM)
        here = seed.meeting(s, ROOM, by=CHAIR, at=room.now - dt.timedelta(minutes=10))
        elsewhere = seed.meeting(s, OTHER_ROOM, by=CHAIR, at=room.now - dt.timedelta(hours=1))
    replies, seen = handled(room, db, lambda: room.say(ANNA, "!hilfe"))
    assert len(replies) == 1
    assert here.id is not None
    assert elsewhere.id is not None
    with db.session() as s:
        assert [a.user_id for a in meetings.attendees(s, here.id)] == [ANNA]
        assert meetings.attendees(s, elsewhere.id) == []
    # The listener's own work: the meeting, the attendee, its insert in a savepoint.
    assert len(Statements.data(seen.bot)) > BOT_BUDGET, seen.listing()
