"""Meetings with their minutes, and the polls' results, in the exports. Poll results are
counts per answer only, and only where they may be shown at all (from 3 answers on, a
pulse once it ended): never anyone's own answer."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session

from commands.core import i18n
from commands.core.room_names import room_name
from commands.exports.sections import Column, ColumnType, Scope, Section, Value
from commands.meetings import minutes
from commands.polls.common import breakdown_shown
from storage import exports as store
from storage import polls as poll_store
from storage.models import PollKind


def _meeting_rows(db: Session, scope: Scope) -> Iterator[tuple[Value, ...]]:
    for m, name in store.meetings(db, scope.window):
        yield (
            room_name(scope.lang, m.room_id, name),
            m.number,
            m.title,
            m.started_at,
            m.ended_at,
            minutes.render(m.minutes, scope.lang).plain if m.minutes else None,
            m.room_id,
        )


def _poll_rows(db: Session, scope: Scope) -> Iterator[tuple[Value, ...]]:
    now = scope.now
    for poll, name in store.polls(db, scope.window):
        tally = poll_store.tally(db, poll)
        results = mean = None
        if breakdown_shown(poll, tally, now):
            results = "; ".join(
                f"{a.text}: {tally.counts.get(a.id, 0)}" for a in poll_store.answers_of(poll)
            )
            if poll.kind == PollKind.PULSE and tally.mean is not None:
                mean = i18n.decimal(tally.mean, scope.lang)
        yield (
            room_name(scope.lang, poll.room_id, name),
            poll.number,
            poll.kind,
            poll.question,
            poll.created_at,
            poll.closed_at or poll.closes_at,
            tally.voters,
            results,
            mean,
            poll.room_id,
        )


MEETINGS = Section(
    name="meetings",
    columns=(
        Column("room", width=28),
        Column("number", ColumnType.INTEGER, width=6),
        Column("title", width=30),
        Column("started_at", ColumnType.DATETIME, width=17),
        Column("ended_at", ColumnType.DATETIME, width=17),
        Column("minutes", width=80),
        Column("room_id", width=32),
    ),
    rows=_meeting_rows,
    group_by="room_id",
)

POLLS = Section(
    name="polls",
    columns=(
        Column("room", width=28),
        Column("number", ColumnType.INTEGER, width=6),
        Column("kind", width=10, labels="poll.kind"),
        Column("question", width=50),
        Column("started_at", ColumnType.DATETIME, width=17),
        Column("ends_at", ColumnType.DATETIME, width=17),
        Column("answers", ColumnType.INTEGER, width=9),
        Column("results", width=60),
        Column("mean", width=8),
        Column("room_id", width=32),
    ),
    rows=_poll_rows,
    group_by="room_id",
)
