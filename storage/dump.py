"""The JSON dump of the database and its restore, generic over the SQLModel metadata.

Every table registered by `storage.models` is dumped, except the few that are the bot's
machine state rather than the committees' record (`MACHINE_STATE`); a new feature's tables
are dumped and restored without a change here. The dump streams: one table at a time, rows
fetched in batches and written one per line, so memory does not grow with the row count.
It carries no timestamp: the same database gives the same bytes, so a restored database
exported again is byte-identical to the file it came from.

The format is versioned (`FORMAT`, `VERSION`) and described by the JSON Schema
`storage/export-schema.json` (see docs/exports.md); the header names the Alembic revision
whose tables it holds. A restore goes into an empty database at that same revision, in one
transaction: a file that is damaged, foreign, of another revision, or that the database
refuses leaves the database as it was.

A dump file is not trusted: whoever hands one to the operator may have written it by hand.
A restore refuses, with one line naming the table, row and column (`DumpError`), JSON
nested deeper than a dump is, numbers outside their column's range (and NaN, Infinity),
texts longer than their column, dates and times outside `FIRST_YEAR`..`LAST_YEAR`, and
values no version of the bot writes where the bot knows every value (a role in
`room_role` other than chair or member, a status, a kind: `KNOWN_VALUES`). Texts are
cleaned like chat input (storage.text: NUL, ESC, bidi overrides … removed; JSON texts
such as minutes inside too), and names (of rooms, of meeting attendees) put on one line.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import jsonschema
from sqlalchemy import BigInteger, Column, Select, SmallInteger, Table, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.migrate import current_revision
from storage.models import (
    AgendaKind,
    AgreementStatus,
    AttendanceStatus,
    DecisionKind,
    DecisionOutcome,
    HistoryAction,
    LogStatus,
    PollKind,
    ReminderStatus,
)
from storage.rooms import CHAIR_ROLE, MEMBER_ROLE
from storage.text import clean, one_line

FORMAT = "gremienbot-dump"
VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent / "export-schema.json"

# Not the committees' record but the running bot's bookkeeping: which events it handled,
# where it stopped syncing, which process holds the scheduler, messages not yet confirmed
# by the homeserver (and their files), and the direct-message rooms of this bot account.
# A restored bot rebuilds all of them. docs/exports.md gives the reasons per table.
MACHINE_STATE = frozenset(
    {"processed_event", "sync_state", "scheduler_lease", "outbox", "outbox_file", "direct_room"}
)
# The column by which a dump is restricted to some rooms.
ROOM_COLUMN = "room_id"
BATCH = 1000

Progress = Callable[[str, int], None]

# Dates and times a restore accepts (a dump's moments are of the bot's years, not of 9999).
FIRST_YEAR = 1900
LAST_YEAR = 2199
# The longest text of a column without a length of its own (the rules of procedure hold
# 20,000 characters, a meeting's minutes as JSON some more).
MAX_TEXT = 1_000_000
# (table, column) -> every value the bot writes there.
KNOWN_VALUES: Mapping[tuple[str, str], frozenset[str]] = {
    ("room_role", "role"): frozenset({CHAIR_ROLE, MEMBER_ROLE}),
    ("agreement", "status"): frozenset(AgreementStatus),
    ("agreement_history", "action"): frozenset(HistoryAction),
    ("reminder", "status"): frozenset(ReminderStatus),
    ("reminder_log", "status"): frozenset(LogStatus),
    ("poll", "kind"): frozenset(PollKind),
    ("meeting_attendee", "status"): frozenset(AttendanceStatus),
    ("decision", "kind"): frozenset(DecisionKind),
    ("decision", "outcome"): frozenset(DecisionOutcome),
    ("agenda_request", "kind"): frozenset(AgendaKind),
}
# Names shown in the bot's texts on one line (storage.rooms.remember_name does the same).
ONE_LINE: frozenset[tuple[str, str]] = frozenset(
    {
        ("room", "name"),
        ("meeting_attendee", "display_name"),
        # One line by their commands (`!amt`, `!grund`): a report's table cell.
        ("member_office", "office"),
        ("agreement", "delay_reason"),
    }
)
# Tables about people that no room links to: a dump of some rooms holds only the rows of
# the people those rooms' agreements name (owners, who recorded them), by this column.
PERSON_COLUMN: Mapping[str, str] = {"member_office": "user_id"}


class DumpError(Exception):
    """A dump that cannot be restored here; the message says why."""


def _no_progress(_table: str, _rows: int) -> None:
    return None


def dumped_tables() -> list[Table]:
    """Tables in the dump, parents before children (the order a restore inserts them)."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in MACHINE_STATE]


# ------------------------------------------------------------------------------- values


def _kind(column: Column[Any]) -> str:
    """The JSON type of a column (`columns[].type` in the schema)."""
    kind = column.type
    # A decorated type (UTCDateTime) stores what its implementation stores.
    impl = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    try:
        python = impl.python_type
    except NotImplementedError:
        return "string"
    if python is bool:
        return "boolean"
    if python is int:
        return "integer"
    if python is float:
        return "number"
    if python is dt.datetime:
        return "datetime"
    if python is dt.date:
        return "date"
    if python is dt.time:
        return "time"
    if python is bytes:
        return "base64"
    return "string"


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC).isoformat()
    if kind in ("date", "time"):
        return value.isoformat()
    if kind == "base64":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return moment
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind == "base64":
        return base64.b64decode(value, validate=True)
    expected: dict[str, type | tuple[type, ...]] = {
        "boolean": bool,
        "integer": int,
        "number": (int, float),
        "string": str,
    }
    wanted = expected[kind]
    if not isinstance(value, wanted) or (kind in ("integer", "number") and isinstance(value, bool)):
        raise ValueError(f"{value!r} is no {kind}")
    return value


# ------------------------------------------------------------------------------- export


def _room_filter(tables: Sequence[Table], room_ids: Sequence[str]) -> dict[str, Select[Any]]:
    """Per table, the rows that belong to the rooms: by its room column, or through a
    foreign key to a table already restricted (an agreement's owners and history).
    Tables about people (`PERSON_COLUMN`) keep the people of the rooms' agreements; other
    tables linked to no room are taken whole."""
    selects: dict[str, Select[Any]] = {}
    for table in tables:
        stmt = select(table)
        if table.name in PERSON_COLUMN:
            stmt = stmt.where(table.c[PERSON_COLUMN[table.name]].in_(_people(room_ids)))
        elif ROOM_COLUMN in table.c:
            stmt = stmt.where(table.c[ROOM_COLUMN].in_(room_ids))
        else:
            for fk in table.foreign_keys:
                parent = fk.column.table
                if parent.name in selects and parent is not table:
                    keys = selects[parent.name].with_only_columns(parent.c[fk.column.name])
                    stmt = stmt.where(fk.parent.in_(keys.scalar_subquery()))
        selects[table.name] = stmt
    return selects


def _people(room_ids: Sequence[str]) -> Any:
    """The user IDs the rooms' agreements name: their owners and who recorded them."""
    agreement = SQLModel.metadata.tables["agreement"]
    owner = SQLModel.metadata.tables["agreement_owner"]
    in_rooms = agreement.c[ROOM_COLUMN].in_(room_ids)
    owners = select(owner.c.user_id).where(
        owner.c.agreement_id.in_(select(agreement.c.id).where(in_rooms))
    )
    return owners.union(select(agreement.c.created_by).where(in_rooms))


def write_dump(
    conn: Connection,
    out: IO[str],
    *,
    room_ids: Sequence[str] | None = None,
    progress: Progress = _no_progress,
) -> None:
    """Write the dump (all rooms, or only `room_ids`) to the text stream `out`."""
    revision = current_revision_of(conn)
    tables = dumped_tables()
    selects = _room_filter(tables, room_ids) if room_ids is not None else {}
    scope = None if room_ids is None else sorted(room_ids)
    out.write("{\n")
    out.write(f'"format": {json.dumps(FORMAT)},\n"version": {VERSION},\n')
    out.write(f'"alembic_revision": {json.dumps(revision)},\n')
    out.write(f'"rooms": {json.dumps(scope, ensure_ascii=False)},\n')
    out.write('"tables": [')
    for n, table in enumerate(tables):
        columns = list(table.columns)
        kinds = [_kind(c) for c in columns]
        stmt = selects.get(table.name, select(table))
        count = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        described = [{"name": c.name, "type": k} for c, k in zip(columns, kinds, strict=True)]
        out.write(",\n" if n else "\n")
        out.write(f'{{"name": {json.dumps(table.name)}, "count": {count},\n')
        out.write(f'"columns": {json.dumps(described)},\n"rows": [')
        order = list(table.primary_key.columns) or columns
        result = conn.execution_options(yield_per=BATCH).execute(stmt.order_by(*order))
        written = 0
        for row in result:
            values = [_encode(k, v) for k, v in zip(kinds, row, strict=True)]
            out.write(",\n" if written else "\n")
            out.write(json.dumps(values, ensure_ascii=False, separators=(",", ":")))
            written += 1
            if written % BATCH == 0:
                progress(table.name, written)
        progress(table.name, written)
        out.write("\n]}" if written else "]}")
    out.write("\n]\n}\n")


def current_revision_of(conn: Connection) -> str | None:
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row is not None else None


# ------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Restored:
    """What a restore inserted: rows per table."""

    rows: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def load_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text("utf-8"))
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no number a dump holds")


def read_dump(source: IO[str]) -> dict[str, Any]:
    """Parse and check a dump file; DumpError says what is wrong with it."""
    try:
        data = json.load(source, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DumpError(
            f"not valid JSON (damaged or truncated?) at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}"
        ) from None
    except UnicodeDecodeError:
        raise DumpError("not a UTF-8 text file") from None
    except RecursionError:
        raise DumpError("nested deeper than any dump (a list or object inside itself)") from None
    except (ValueError, OverflowError) as exc:  # a number of 5,000 digits, NaN
        raise DumpError(f"holds a value no dump holds: {str(exc).splitlines()[0]}") from None
    except MemoryError:
        raise DumpError("too large to read") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DumpError(f'not a gremienbot dump (no "format": "{FORMAT}" in its header)')
    if data.get("version") != VERSION:
        raise DumpError(
            f"dump format version {data.get('version')!r} is not supported "
            f"(this gremienbot reads version {VERSION})"
        )
    validator = jsonschema.Draft202012Validator(load_schema())
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    except RecursionError:
        raise DumpError("nested deeper than any dump (a list or object inside itself)") from None
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise DumpError(f"does not match the dump schema at {where}: {error.message}")
    return data


def _check_tables(data: Mapping[str, Any], known: Mapping[str, Table]) -> None:
    for entry in data["tables"]:
        name = entry["name"]
        table = known.get(name)
        if table is None:
            raise DumpError(f"table {name!r} is not a table of this database")
        expected = [{"name": c.name, "type": _kind(c)} for c in table.columns]
        if entry["columns"] != expected:
            raise DumpError(f"table {name!r}: its columns differ from this database's")
        if len(entry["rows"]) != entry["count"]:
            raise DumpError(
                f"table {name!r}: {len(entry['rows'])} rows, but its header says {entry['count']}"
            )


def _non_empty(conn: Connection, tables: Sequence[Table]) -> list[str]:
    return [
        t.name for t in tables if conn.execute(select(func.count()).select_from(t)).scalar_one() > 0
    ]


def _int_range(column: Column[Any]) -> tuple[int, int]:
    """The integers the column holds on every backend (PostgreSQL's INTEGER is 32 bits)."""
    kind = column.type
    impl = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    bits = 64 if isinstance(impl, BigInteger) else 16 if isinstance(impl, SmallInteger) else 32
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _max_length(column: Column[Any]) -> int:
    kind = column.type
    impl = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    length = getattr(impl, "length", None)
    return length if isinstance(length, int) else MAX_TEXT


def _clean_json_text(value: str) -> str:
    """A text that holds JSON (minutes, a poll's answers) cleaned inside as well: its
    escapes ("\\u0000", "\\u202e") become those characters when the bot reads it."""
    if value[:1] not in ("[", "{"):
        return value
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return value
    cleaned = _clean_deep(parsed)
    return value if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False)


def _clean_deep(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_clean_deep(v) for v in value]
    if isinstance(value, dict):
        return {clean(k): _clean_deep(v) for k, v in value.items()}
    return value


def _checked(table: str, column: Column[Any], kind: str, value: Any) -> Any:
    """The decoded value within the column's bounds (ValueError: which it leaves), its text
    cleaned like chat input."""
    if value is None:
        return None
    if kind == "integer":
        low, high = _int_range(column)
        if not low <= value <= high:
            raise ValueError(f"{column.name}: {value} is outside {low}..{high}")
    elif kind == "number":
        if not math.isfinite(float(value)) or abs(value) > 1e15:
            raise ValueError(f"{column.name}: {value} is outside the column's range")
    elif kind in ("datetime", "date"):
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError(
                f"{column.name}: {value.isoformat()} is outside {FIRST_YEAR}..{LAST_YEAR}"
            )
    elif kind == "string":
        if len(value) > _max_length(column):
            raise ValueError(
                f"{column.name}: {len(value)} characters, at most {_max_length(column)}"
            )
        value = clean(value)
        one = (table, column.name) in ONE_LINE
        value = one_line(value) if one else _clean_json_text(value)
        known = KNOWN_VALUES.get((table, column.name))
        if known is not None and value not in known:
            raise ValueError(f"{column.name}: {value[:40]!r} is none of {', '.join(sorted(known))}")
    return value


def _rows(entry: Mapping[str, Any], table: Table) -> Iterator[dict[str, Any]]:
    columns = list(table.columns)
    kinds = [_kind(c) for c in columns]
    for i, raw in enumerate(entry["rows"]):
        if len(raw) != len(columns):
            raise DumpError(
                f"table {table.name!r}, row {i + 1}: {len(raw)} values, not {len(columns)}"
            )
        try:
            yield {
                c.name: _checked(table.name, c, k, _decode(k, v))
                for c, k, v in zip(columns, kinds, raw, strict=True)
            }
        except (ValueError, OverflowError) as exc:
            raise DumpError(f"table {table.name!r}, row {i + 1}: {exc}") from None


def restore(engine: Engine, data: Mapping[str, Any], progress: Progress = _no_progress) -> Restored:
    """Insert a checked dump (`read_dump`) into the empty database, in one transaction."""
    known = {t.name: t for t in dumped_tables()}
    _check_tables(data, known)
    here = current_revision(engine)
    if data["alembic_revision"] != here:
        raise DumpError(
            f"the dump is of schema revision {data['alembic_revision']}, this database is at "
            f"{here or 'no revision (run `gremienbot migrate` first)'}"
        )
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            full = _non_empty(conn, list(known.values()))
            if full:
                raise DumpError(
                    "the database is not empty (rows in " + ", ".join(full) + "): "
                    "a dump is restored only into a new, migrated database"
                )
            for entry in data["tables"]:
                table = known[entry["name"]]
                batch: list[dict[str, Any]] = []
                done = 0
                for row in _rows(entry, table):
                    batch.append(row)
                    if len(batch) == BATCH:
                        conn.execute(table.insert(), batch)
                        done += len(batch)
                        batch = []
                        progress(table.name, done)
                if batch:
                    conn.execute(table.insert(), batch)
                    done += len(batch)
                progress(table.name, done)
                counts[table.name] = done
            _advance_sequences(conn, [known[e["name"]] for e in data["tables"]])
    except (DBAPIError, StatementError, OverflowError, ValueError) as exc:
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
        raise DumpError(f"the database refused the dump's rows: {reason}") from None
    return Restored(counts)


def _advance_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL: serial keys continue after the restored rows (SQLite does that itself)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or _kind(pk[0]) != "integer" or pk[0].autoincrement is False:
            continue
        name = pk[0].name
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": name}
        ).scalar()
        if sequence is None:
            continue
        highest = conn.execute(select(func.max(pk[0]))).scalar()
        if highest is not None:
            conn.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": highest})
