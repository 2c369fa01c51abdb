"""A person's data on request: everything stored about them (`subject_access`, for
`gremienbot export --user`), and their erasure (`erase`, for `gremienbot forget`).

Erasure keeps the committees' record consistent: an agreement someone recorded or owned
stays, but where their user ID was, a pseudonym now stands ("ehemaliges Mitglied 3"; one
number per erased person, so that a history still reads as it happened, and never a
valid Matrix ID, so nobody is notified). Their roles and direct-message room are deleted,
messages the bot sent them are emptied, their user ID is replaced inside texts (agreement
texts, history values, minutes, reminders), and their poll answers, which are stored under
a keyed hash, are cut loose from that hash so that not even the holder of `voter.key` can
find them again. The answers themselves stay, so results do not change. A stored room
name that would name them goes (their direct-message room's, and any holding their ID or
a name of theirs). After the commit `scrub` takes the old values out of the database's
files as well (SQLite: VACUUM and an emptied WAL; PostgreSQL: VACUUM FULL of the tables
changed).

Every column of every table is listed below as holding a user ID (and how it is
treated), as text in which one may occur, or as holding none: the tests fail for a
column that is not listed, so a new table has to decide.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import LargeBinary, String, Table, TypeDecorator, and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (every table on the metadata)
from storage import polls as poll_store
from storage import surveys as survey_store
from storage.models import OutboxStatus
from storage.retention import ANONYMOUS_PREFIX, Changes

PSEUDONYM = "ehemaliges Mitglied"

# Columns whose value is a user ID: replaced by the person's pseudonym.
REPLACED: tuple[tuple[str, str], ...] = (
    ("agreement", "created_by"),
    ("agreement_owner", "user_id"),
    ("agreement_history", "actor"),
    ("reminder", "created_by"),
    ("reminder_snooze", "set_by"),
    ("room_role", "set_by"),
    ("rules_text", "set_by"),
    # Who set someone else's office with `!amt @person …`.
    ("member_office", "set_by"),
    ("meeting", "started_by"),
    ("meeting", "ended_by"),
    ("meeting_attendee", "user_id"),
    ("meeting_plan", "set_by"),
    ("poll", "created_by"),
    ("poll", "closed_by"),
    ("survey", "started_by"),
    ("survey_participant", "user_id"),
    # The rules of procedure at work (`!geschäftsordnung setze`, `!umlauf`, `!beschluss`,
    # `!top`, `!einspruch`): the committee's record stays, with the pseudonym.
    ("procedure_rules", "set_by"),
    ("voting_member", "set_by"),
    ("decision", "created_by"),
    ("agenda_request", "proposed_by"),
    ("minutes_objection", "user_id"),
)
# Rows that only make sense for the person themself: deleted.
DELETED: tuple[tuple[str, str], ...] = (
    ("room_role", "user_id"),
    ("direct_room", "user_id"),
    # Their office (`!amt`): the leadership report names offices, not erased people.
    ("member_office", "user_id"),
    # Their vote in the committee: a former member is no voting member, and must not
    # count among those whose votes a quorum needs.
    ("voting_member", "user_id"),
)
# Texts that may name the person by user ID: the ID is replaced inside them.
TEXTS: tuple[tuple[str, str], ...] = (
    ("agreement", "text"),
    # The reason for a delay (`!grund`) is the agreement's content, as a note is.
    ("agreement", "delay_reason"),
    ("agreement_history", "old_value"),
    ("agreement_history", "new_value"),
    ("agreement_history", "note"),
    ("reminder", "text"),
    ("reminder", "mentions"),
    ("rules_text", "text"),
    ("member_office", "office"),
    ("meeting", "title"),
    ("meeting", "minutes"),
    ("meeting_attendee", "display_name"),
    ("poll", "question"),
    ("poll", "answers"),
    ("survey", "free_question"),
    ("survey_comment", "text"),
    ("outbox", "content"),
    ("outbox", "to_user"),
    ("outbox", "last_error"),
    ("decision", "text"),
    # The rule applied, as announced; made from the catalogue, but kept as it was said.
    ("decision", "rule"),
    ("agenda_request", "text"),
    ("minutes_objection", "reason"),
)
# Columns that never hold a user ID (IDs, times, states, hashes, keys, room IDs …).
NO_USER: tuple[tuple[str, str], ...] = (
    ("room", "room_id"),
    # The room's m.room.name; one an older version made up from the members, or one that
    # holds the person's ID or name, is deleted by `_room_names`.
    ("room", "name"),
    ("room_setting", "room_id"),
    ("room_setting", "key"),
    ("room_setting", "value"),
    ("room_role", "room_id"),
    ("room_role", "role"),
    ("agreement", "room_id"),
    ("agreement", "status"),
    ("agreement", "source_event_id"),
    ("agreement_history", "action"),
    ("agreement_history", "source_event_id"),
    ("reminder", "room_id"),
    ("reminder", "recurrence"),
    ("reminder", "status"),
    ("reminder", "source_event_id"),
    ("reminder_log", "key"),
    ("reminder_log", "room_id"),
    ("reminder_log", "kind"),
    ("reminder_log", "status"),
    ("reminder_snooze", "ref_kind"),
    ("reminder_snooze", "room_id"),
    ("scheduler_lease", "name"),
    ("scheduler_lease", "holder"),
    ("rules_text", "room_id"),
    ("rules_text", "source_event_id"),
    ("report_log", "key"),
    ("report_log", "room_id"),
    ("direct_room", "room_id"),
    ("processed_event", "event_id"),
    ("processed_event", "room_id"),
    ("sync_state", "key"),
    ("sync_state", "value"),
    ("meeting", "room_id"),
    ("meeting", "source_event_id"),
    ("meeting_plan", "room_id"),
    ("meeting_plan", "recurrence"),
    ("meeting_plan", "source_event_id"),
    ("meeting_agenda", "room_id"),
    ("meeting_agenda", "key"),
    ("outbox", "txn_id"),
    ("outbox", "room_id"),
    ("outbox", "event_type"),
    ("outbox", "status"),
    ("outbox", "event_id"),
    ("outbox", "ref_kind"),
    ("outbox", "kind"),
    # A file's job: rooms, format, period, language (commands.core.file_jobs), no member.
    ("outbox", "file_job"),
    ("outbox_file", "filename"),
    ("outbox_file", "mimetype"),
    ("outbox_file", "data"),
    ("poll", "room_id"),
    ("poll", "kind"),
    ("poll", "source_event_id"),
    ("poll_vote", "voter"),
    ("poll_vote", "answers"),
    ("survey", "room_id"),
    ("survey", "source_event_id"),
    ("survey_comment", "voter"),
    ("procedure_rules", "room_id"),
    # The rules' numbers as JSON (commands.procedure.rules.to_params): no person.
    ("procedure_rules", "params"),
    ("voting_member", "room_id"),
    ("decision", "room_id"),
    ("decision", "kind"),
    ("decision", "outcome"),
    ("decision", "source_event_id"),
    ("agenda_request", "room_id"),
    ("agenda_request", "kind"),
    ("agenda_request", "source_event_id"),
    ("minutes_objection", "source_event_id"),
    ("meeting_attendee", "status"),
)


def string_columns() -> Iterator[tuple[str, str]]:
    """Every text or binary column of every table (where a user ID could be)."""
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            kind = column.type
            if isinstance(kind, TypeDecorator):  # SQLModel's AutoString, UTCDateTime …
                kind = kind.impl_instance
            if isinstance(kind, String | LargeBinary):
                yield table.name, column.name


def unclassified() -> list[tuple[str, str]]:
    known = {*REPLACED, *DELETED, *TEXTS, *NO_USER}
    return [c for c in string_columns() if c not in known]


def id_pattern(user_id: str) -> re.Pattern[str]:
    """The user ID as a whole word: not `@anna:example.org` inside `@anna:example.org.uk`."""
    return re.compile(r"(?<![\w.@-])" + re.escape(user_id) + r"(?![\w-]|[.:][\w])", re.IGNORECASE)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _key(table: Table, row: Any) -> Any:
    return and_(*(c == row[c.name] for c in table.primary_key.columns))


# ------------------------------------------------------------------------------ access


def subject_access(db: Session, user_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """Every row that holds the user ID (as a value or inside a text), by table; JSON-ready.

    Poll and survey answers are not among them: they are stored under a keyed hash, not
    the user ID, and the bot keeps them apart from the person by design (docs/polls.md).
    """
    pattern = id_pattern(user_id)
    tables: dict[str, Any] = {}
    by_table: dict[str, list[str]] = {}
    for name, column in (*REPLACED, *DELETED, *TEXTS):
        by_table.setdefault(name, []).append(column)
    for table in SQLModel.metadata.sorted_tables:
        columns = by_table.get(table.name)
        if not columns:
            continue
        cond = or_(
            *(
                table.c[c] == user_id
                if (table.name, c) in (*REPLACED, *DELETED)
                else table.c[c].contains(user_id, autoescape=True)
                for c in columns
            )
        )
        shown = [c for c in table.columns if table.name != "outbox_file" or c.name != "data"]
        rows = []
        for row in db.execute(select(table).where(cond).order_by(*table.primary_key.columns)):
            values = row._mapping
            if not any(
                values[c] == user_id
                or (isinstance(values[c], str) and pattern.search(values[c]) is not None)
                for c in columns
            ):
                continue  # a longer user ID that merely starts with this one
            rows.append([_json_value(values[c.name]) for c in shown])
        if rows:
            tables[table.name] = {"columns": [c.name for c in shown], "rows": rows}
    return {
        "format": "gremienbot-subject-access",
        "version": 1,
        "user_id": user_id,
        "generated_at": now.isoformat(),
        "tables": tables,
        "not_included": (
            "Answers to polls, pulses and surveys: stored under a keyed hash of poll and "
            "person, never under the user ID (docs/polls.md); they are not looked up."
        ),
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


# ------------------------------------------------------------------------------ erasure


@dataclass
class Erased(Changes):
    """What `forget` changed, by "table.column: what was done"."""

    user_id: str
    pseudonym: str
    # Open agreements the person owned: (room ID, number), to be given a new owner.
    open_agreements: list[tuple[str, int]] = field(default_factory=list)
    # The display names replaced in texts besides the user ID.
    names: list[str] = field(default_factory=list)


def next_pseudonym(db: Session) -> str:
    """ "ehemaliges Mitglied N", N one more than any used so far."""
    highest = 0
    number = re.compile(re.escape(PSEUDONYM) + r" (\d+)\Z")
    for name, column in REPLACED:
        c = _table(name).c[column]
        for (value,) in db.execute(select(c).where(c.like(f"{PSEUDONYM} %")).distinct()):
            m = number.match(value or "")
            if m:
                highest = max(highest, int(m[1]))
    return f"{PSEUDONYM} {highest + 1}"


# (scope, user ID) -> the keyed hash that stands in for that voter (storage.voters).
VoterHash = Callable[[str, str], str]


def known_names(db: Session, user_id: str) -> list[str]:
    """The display names the bot noted for the person (meeting attendance, minutes, and the
    name an older version stored for their direct-message room: nio's computed name, which
    for that room is the person's display name)."""
    found: set[str] = set()
    for name in _direct_room_names(db, user_id):
        found.add(name)
        found.update(n for n in (_own_name(name, user_id),) if n)
    a = _table("meeting_attendee")
    for (name,) in db.execute(select(a.c.display_name).where(a.c.user_id == user_id)):
        if name:
            found.add(name)
    m = _table("meeting")
    for (minutes,) in db.execute(
        select(m.c.minutes).where(m.c.minutes.contains(user_id, autoescape=True))
    ):
        try:
            facts = json.loads(minutes)
        except (TypeError, ValueError):
            continue
        found.update(_names_in(facts, user_id))
    # Too short a name would replace parts of other words.
    return sorted(n for n in found if len(n.strip()) >= MIN_NAME and n.strip() != user_id)


MIN_NAME = 4


def _direct_rooms(db: Session, user_id: str) -> list[str]:
    d = _table("direct_room")
    return [r for (r,) in db.execute(select(d.c.room_id).where(d.c.user_id == user_id))]


def _direct_room_names(db: Session, user_id: str) -> list[str]:
    r, d = _table("room"), _table("direct_room")
    stmt = select(r.c.name).join(d, d.c.room_id == r.c.room_id).where(d.c.user_id == user_id)
    return [name for (name,) in db.execute(stmt) if name]


def _own_name(name: str, user_id: str) -> str:
    """A display name without the user ID Element's disambiguation added to it."""
    return name.removesuffix(f" ({user_id})").strip()


def _names_in(value: Any, user_id: str) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("user_id") == user_id and isinstance(value.get("name"), str):
            yield value["name"]
        for v in value.values():
            yield from _names_in(v, user_id)
    elif isinstance(value, list):
        for v in value:
            yield from _names_in(v, user_id)


def id_and_names_pattern(user_id: str, names: Sequence[str]) -> re.Pattern[str]:
    """The user ID, or one of the names as whole words (case as written)."""
    alternatives = [id_pattern(user_id).pattern]
    alternatives += [
        r"(?<!\w)" + re.escape(n.strip()) + r"(?!\w)"
        for n in sorted(names, key=len, reverse=True)
        if len(n.strip()) >= MIN_NAME
    ]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def erase(
    db: Session,
    user_id: str,
    *,
    voter_hash: VoterHash | None = None,
    names: Sequence[str] = (),
) -> Erased:
    """Remove `user_id` from every table, in the caller's transaction (see the module).
    With `voter_hash` (needs the bot's voter key) their answers are cut loose too. Their
    display names (those the bot noted, and `names`) are replaced in texts as well."""
    done = Erased(user_id, next_pseudonym(db))
    pseudonym = done.pseudonym
    done.names = sorted({*known_names(db, user_id), *(n.strip() for n in names if n.strip())})
    pattern = id_and_names_pattern(user_id, done.names)
    _room_names(db, _direct_rooms(db, user_id), pattern, done)
    _note_open_agreements(db, user_id, done)
    _open_survey_participation(db, user_id, done)
    for name, column in DELETED:
        table = _table(name)
        result = db.execute(table.delete().where(table.c[column] == user_id))
        done.add(f"{name}: deleted", result.rowcount or 0)  # type: ignore[attr-defined]
    for name, column in REPLACED:
        table = _table(name)
        result = db.execute(
            update(table).where(table.c[column] == user_id).values({column: pseudonym})
        )
        done.add(f"{name}.{column}: pseudonym", result.rowcount or 0)  # type: ignore[attr-defined]
    _attendee_names(db, pseudonym, done)
    needles = [user_id, *done.names]
    _outbox(db, user_id, needles, pattern, pseudonym, done)
    for name, column in TEXTS:
        if name == "outbox" or (name, column) == ("meeting_attendee", "display_name"):
            continue
        _texts(db, name, column, user_id, needles, pattern, pseudonym, done)
    if voter_hash is not None:
        _unlink_answers(db, user_id, voter_hash, done)
    db.flush()
    return done


def _room_names(db: Session, direct: Sequence[str], pattern: re.Pattern[str], done: Erased) -> None:
    """Stored room names that would name the person go: that of their direct-message room
    (an older version stored nio's computed name there: their display name), and any that
    holds their user ID or one of their names (an unnamed committee room's computed name
    was its member list). Texts then show the neutral "Raum ohne Namen (…abc)"."""
    r = _table("room")
    cleared = [
        room_id
        for room_id, name in db.execute(select(r.c.room_id, r.c.name).where(r.c.name.is_not(None)))
        if room_id in direct or pattern.search(name)
    ]
    for room_id in cleared:
        db.execute(update(r).where(r.c.room_id == room_id).values(name=None))
    done.add("room.name: deleted", len(cleared))


# ------------------------------------------------------------------------------ the files


def secure_delete(db: Session) -> None:
    """SQLite: what this session's connection deletes or overwrites is overwritten with
    zeros in the file, not merely marked free (call before the erasure's first write)."""
    if db.get_bind().dialect.name == "sqlite":
        db.connection().exec_driver_sql("PRAGMA secure_delete=ON")


def touched_tables(done: Changes) -> list[str]:
    """The tables an erasure changed rows of (from its counts: "table.column: what")."""
    known = SQLModel.metadata.tables
    found: set[str] = set()
    for what in done.counts:
        head = what.split(":", 1)[0].split(" ", 1)[0]
        found.update(t for t in (p.split(".", 1)[0] for p in head.split("/")) if t in known)
    return sorted(found)


def scrub(engine: Engine, tables: Sequence[str]) -> list[str]:
    """After an erasure was committed: the old values out of the database's files too.
    Returns what could not be done, one line each, for the operator (empty: all done).

    SQLite: VACUUM rewrites the file, so that no freed page or freed space in a page keeps
    an old value (also none freed before the erasure, without secure_delete), and
    `wal_checkpoint(TRUNCATE)` writes the WAL into the file and empties it.
    PostgreSQL: `VACUUM (FULL)` of the tables the erasure changed writes them (and their
    TOAST tables and indexes) anew, so that the old row versions, which an UPDATE or
    DELETE leaves in the table's pages, are gone from the table's files. The server's
    write-ahead log (pg_wal), a WAL archive and earlier backups keep the old values until
    they are recycled or deleted: that is the operator's (docs/datenschutz.md)."""
    left: list[str] = []
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA secure_delete=ON")
            try:
                cur.execute("VACUUM")
            except Exception as exc:  # sqlite3.OperationalError: database is locked
                left.append(f"VACUUM did not run ({exc}): freed pages may keep old values")
            busy, _log, _done = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                left.append(
                    "the write-ahead log (-wal file) could not be emptied while another "
                    "process reads the database: run `gremienbot forget` again (it finds "
                    "nothing to change and empties it) when the bot is stopped"
                )
            cur.close()
        finally:
            raw.close()
        return left
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in tables:
                quoted = conn.dialect.identifier_preparer.quote(name)
                try:
                    conn.exec_driver_sql(f"VACUUM (FULL) {quoted}")
                except Exception as exc:
                    left.append(f"VACUUM (FULL) {name} failed: {str(exc).splitlines()[0]}")
        left.append(
            "PostgreSQL's write-ahead log (pg_wal), a WAL archive and backups made before "
            "keep the old values until they are recycled or deleted"
        )
    return left


def _note_open_agreements(db: Session, user_id: str, done: Erased) -> None:
    a, o = _table("agreement"), _table("agreement_owner")
    stmt = (
        select(a.c.room_id, a.c.number)
        .join(o, o.c.agreement_id == a.c.id)
        .where(o.c.user_id == user_id, a.c.status == "open")
        .order_by(a.c.room_id, a.c.number)
    )
    done.open_agreements = [(room_id, number) for room_id, number in db.execute(stmt)]


def _open_survey_participation(db: Session, user_id: str, done: Erased) -> None:
    """In a survey still running the person is no longer asked or reminded."""
    p, s = _table("survey_participant"), _table("survey")
    running = select(s.c.id).where(s.c.closed_at.is_(None))
    result = db.execute(p.delete().where(p.c.user_id == user_id, p.c.survey_id.in_(running)))
    done.add("survey_participant (running survey): deleted", result.rowcount or 0)  # type: ignore[attr-defined]


def _attendee_names(db: Session, pseudonym: str, done: Erased) -> None:
    t = _table("meeting_attendee")
    result = db.execute(
        update(t)
        .where(t.c.user_id == pseudonym, t.c.display_name.is_not(None))
        .values(display_name=None)
    )
    done.add("meeting_attendee.display_name: deleted", result.rowcount or 0)  # type: ignore[attr-defined]


def _replace_in(value: Any, user_id: str, pattern: re.Pattern[str], pseudonym: str) -> Any:
    """The value with the person replaced: in JSON, an entry naming the person by
    `user_id` loses its `name` too; a list of user IDs loses the person."""
    if isinstance(value, dict):
        out = {k: _replace_in(v, user_id, pattern, pseudonym) for k, v in value.items()}
        if value.get("user_id") == user_id and "name" in out:
            out["name"] = pseudonym
        return out
    if isinstance(value, list):
        return [_replace_in(v, user_id, pattern, pseudonym) for v in value]
    if isinstance(value, str):
        return pattern.sub(pseudonym, value)
    return value


def _texts(
    db: Session,
    name: str,
    column: str,
    user_id: str,
    needles: Sequence[str],
    pattern: re.Pattern[str],
    pseudonym: str,
    done: Erased,
) -> None:
    table = _table(name)
    c = table.c[column]
    changed = 0
    maybe = or_(*(c.contains(n, autoescape=True) for n in needles))
    for row in list(db.execute(select(table).where(maybe)).mappings()):
        old = row[column]
        if not isinstance(old, str) or not pattern.search(old):
            continue
        if (name, column) == ("reminder", "mentions"):
            try:
                people = json.loads(old)
            except ValueError:
                people = None
            if isinstance(people, list):
                kept = [p for p in people if p != user_id]
                new: str | None = json.dumps(kept) if kept else None
            else:
                new = pattern.sub(pseudonym, old)
        else:
            try:
                parsed = json.loads(old) if old[:1] in "[{" else None
            except ValueError:
                parsed = None
            if parsed is not None:
                new = json.dumps(
                    _replace_in(parsed, user_id, pattern, pseudonym), ensure_ascii=False
                )
            else:
                new = pattern.sub(pseudonym, old)
        db.execute(update(table).where(_key(table, row)).values({column: new}))
        changed += 1
    done.add(f"{name}.{column}: replaced in text", changed)


def _outbox(
    db: Session,
    user_id: str,
    needles: Sequence[str],
    pattern: re.Pattern[str],
    pseudonym: str,
    done: Erased,
) -> None:
    """Messages to the person: emptied (still owed ones dropped). Messages about them: a
    sent one is emptied (the room has it; the bot needs only its event ID), one still owed
    names the pseudonym instead."""
    t = _table("outbox")
    mine = or_(t.c.to_user == user_id, *(t.c.content.contains(n, autoescape=True) for n in needles))
    emptied = dropped = replaced = 0
    for row in list(db.execute(select(t).where(mine)).mappings()):
        if row["to_user"] != user_id and not pattern.search(row["content"]):
            continue
        values: dict[str, Any]
        if row["to_user"] == user_id:
            values = {"to_user": None, "content": "{}", "last_error": None}
            if row["status"] == OutboxStatus.PENDING:
                values["status"] = OutboxStatus.DROPPED
                dropped += 1
            else:
                emptied += 1
        elif row["status"] == OutboxStatus.PENDING:
            values = {"content": pattern.sub(pseudonym, row["content"])}
            replaced += 1
        else:
            values = {"content": "{}"}
            emptied += 1
        db.execute(update(t).where(t.c.id == row["id"]).values(values))
    done.add("outbox: emptied", emptied)
    done.add("outbox: dropped (not sent)", dropped)
    done.add("outbox.content: replaced in text", replaced)


def _unlink_answers(db: Session, user_id: str, voter_hash: VoterHash, done: Erased) -> None:
    """Answers stored under the person's keyed hash get a random voter instead, and the
    poll's votes (the survey's free texts) are written again in random order under new
    random IDs (`storage.shuffled`): an updated row would keep, or on PostgreSQL change,
    its place, by which the person's answer could be found again."""
    polls, votes = _table("poll"), _table("poll_vote")
    comments = _table("survey_comment")
    unlinked = 0
    for poll_id, survey_id in list(db.execute(select(polls.c.id, polls.c.survey_id))):
        hashes = {voter_hash(f"poll:{poll_id}", user_id)}
        if survey_id is not None:
            hashes.add(voter_hash(f"survey:{survey_id}", user_id))
        given = list(
            db.execute(select(votes.c.voter, votes.c.answers).where(votes.c.poll_id == poll_id))
        )
        if not any(voter in hashes for voter, _a in given):
            continue
        unlinked += sum(1 for voter, _a in given if voter in hashes)
        poll_store.rewrite_votes(db, poll_id, [(_cut_loose(v, hashes), a) for v, a in given])
    surveys = _table("survey")
    for (survey_id,) in list(db.execute(select(surveys.c.id))):
        h = {voter_hash(f"survey:{survey_id}", user_id)}
        texts = list(
            db.execute(
                select(comments.c.voter, comments.c.text).where(comments.c.survey_id == survey_id)
            )
        )
        if not any(voter in h for voter, _t in texts):
            continue
        unlinked += 1
        survey_store.rewrite_comments(db, survey_id, [(_cut_loose(v, h), t) for v, t in texts])
    done.add("poll_vote/survey_comment: cut loose from the voter hash", unlinked)


def _cut_loose(voter: str, hashes: set[str]) -> str:
    return ANONYMOUS_PREFIX + secrets.token_hex(16) if voter in hashes else voter
