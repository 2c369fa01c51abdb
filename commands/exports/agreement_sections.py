"""The agreements in the exports: one section of agreements (owners, dates, state), one of
their history (who changed what when), and the open ones with a due date as calendar items."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from itertools import groupby

from sqlmodel import Session

from commands.core import i18n
from commands.core.room_names import room_name
from commands.exports.sections import (
    CalendarItem,
    Column,
    ColumnType,
    Scope,
    Section,
    Value,
)
from storage import exports as store
from storage import offices as office_store
from storage.figures.agreements import State
from storage.figures.agreements import state_of as figures_state
from storage.models import Agreement, AgreementStatus


def state_of(a: Agreement, scope: Scope) -> State:
    return figures_state(a, scope.now.astimezone(scope.tz))


def with_owners(db: Session, scope: Scope) -> Iterator[tuple[Agreement, str | None, list[str]]]:
    """Agreements with their room's name and owners: two ordered queries walked side by side."""
    owner_rows = groupby(store.owners(db, scope.window), key=lambda row: row[0])
    pending = next(owner_rows, None)
    for a, name in store.agreements(db, scope.window):
        owners: list[str] = []
        if pending is not None and pending[0] == a.id:
            owners = [user for _, user in pending[1]]
            pending = next(owner_rows, None)
        yield a, name, owners


def _room_names(lang: str) -> Callable[[str, str | None], str]:
    """`room_name` in `lang`, worked out once per room for the many rows of an export."""
    return functools.cache(functools.partial(room_name, lang))


def _offices(owners: list[str], offices: Mapping[str, str]) -> str | None:
    """The owners' offices, each once, in the owners' order (None: none known)."""
    found = list(dict.fromkeys(offices[u] for u in owners if u in offices))
    return ", ".join(found) or None


def _agreement_rows(db: Session, scope: Scope) -> Iterator[tuple[Value, ...]]:
    shown = _room_names(scope.lang)
    # One row per member: read once, not per agreement.
    offices = office_store.all_offices(db, scope.offices)
    for a, name, owners in with_owners(db, scope):
        yield (
            shown(a.room_id, name),
            a.number,
            a.text,
            state_of(a, scope),
            ", ".join(owners),
            _offices(owners, offices),
            a.due_date,
            f"{a.due_time:%H:%M}" if a.due_time is not None else None,
            a.delay_reason,
            a.created_by,
            a.created_at,
            a.closed_at,
            a.room_id,
        )


def _history_rows(db: Session, scope: Scope) -> Iterator[tuple[Value, ...]]:
    shown = _room_names(scope.lang)
    for room_id, name, number, at, actor, action, old, new, note in store.history(db, scope.window):
        yield (shown(room_id, name), number, at, actor, action, old, new, note, room_id)


def _calendar(db: Session, scope: Scope) -> Iterator[CalendarItem]:
    """Open agreements with a due date (in the period, if one was given)."""
    first = scope.window.start.astimezone(scope.tz).date() if scope.window.start else None
    end = scope.window.end.astimezone(scope.tz).date() if scope.window.end else None
    for a, name, owners in with_owners(db, scope):
        due = a.due_date
        if a.status != AgreementStatus.OPEN or due is None:
            continue
        if (first is not None and due < first) or (end is not None and due >= end):
            continue
        room = room_name(scope.lang, a.room_id, name)
        description = i18n.plain(
            scope.lang,
            "export.calendar.description",
            room=room,
            owners=", ".join(owners) or "–",
        )
        moment = (
            dt.datetime.combine(due, a.due_time, tzinfo=scope.tz)
            if a.due_time is not None
            else None
        )
        yield CalendarItem(
            uid=f"gremienbot-agreement-{a.number}-{a.room_id}",
            summary=f"#{a.number} {a.text}",
            description=description,
            day=due,
            moment=moment,
        )


AGREEMENTS = Section(
    name="agreements",
    columns=(
        Column("room", width=28),
        Column("number", ColumnType.INTEGER, width=6),
        Column("text", width=60),
        Column("state", width=12, labels="export.state"),
        Column("owners", width=36),
        Column("office", width=36),
        Column("due_date", ColumnType.DATE, width=12),
        Column("due_time", width=8),
        Column("reason", width=48),
        Column("created_by", width=28),
        Column("created_at", ColumnType.DATETIME, width=17),
        Column("closed_at", ColumnType.DATETIME, width=17),
        Column("room_id", width=32),
    ),
    rows=_agreement_rows,
    group_by="room_id",
    split_by="state",
    split_order=tuple(State),
    calendar=_calendar,
)

HISTORY = Section(
    name="history",
    columns=(
        Column("room", width=28),
        Column("number", ColumnType.INTEGER, width=6),
        Column("at", ColumnType.DATETIME, width=17),
        Column("actor", width=28),
        Column("action", width=16, labels="export.action"),
        Column("old_value", width=40),
        Column("new_value", width=40),
        Column("note", width=40),
        Column("room_id", width=32),
    ),
    rows=_history_rows,
    group_by="room_id",
)
