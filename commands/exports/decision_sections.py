"""The committees' decisions in the exports: each decision ended in the period (a Beschluss
with its number, or a motion rejected or not decided), how it was decided and its votes.
A circulation still running has no result yet and is not listed."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session

from commands.core.room_names import room_name
from commands.exports.sections import Column, ColumnType, Scope, Section, Value
from storage import decisions as store


def _decision_rows(db: Session, scope: Scope) -> Iterator[tuple[Value, ...]]:
    for d, name in store.in_window(db, scope.window):
        number = None if d.year is None or d.number is None else store.label(d.year, d.number)
        yield (
            room_name(scope.lang, d.room_id, name),
            number,
            d.decided_at,
            d.text,
            d.kind,
            d.yes,
            d.no,
            d.abstain,
            d.eligible,
            d.participated,
            d.outcome,
            d.room_id,
        )


DECISIONS = Section(
    name="decisions",
    columns=(
        Column("room", width=28),
        Column("number", width=9),
        Column("decided_at", ColumnType.DATETIME, width=17),
        Column("text", width=60),
        Column("kind", width=16, labels="procedure_decisions.kind"),
        Column("yes", ColumnType.INTEGER, width=6),
        Column("no", ColumnType.INTEGER, width=6),
        Column("abstain", ColumnType.INTEGER, width=9),
        Column("eligible", ColumnType.INTEGER, width=9),
        Column("participated", ColumnType.INTEGER, width=9),
        Column("outcome", width=28, labels="procedure_decisions.outcome"),
        Column("room_id", width=32),
    ),
    rows=_decision_rows,
    group_by="room_id",
)
