"""anonymity that holds: votes and free texts under random 64-bit IDs, written again in
random order; participants of a survey without times (reminded and thanked only), and
gone once it ended, leaving how many took part (`survey.participated`); handled events of
direct-message rooms no longer kept under their plain ID and room

Every poll's votes, every survey's free texts and the participants of running surveys
are written again in random order under new random IDs (`storage.shuffled`), so that
neither the IDs nor the rows' places keep the order in which they were given. The
records of handled events of members' direct-message rooms are deleted: the bot now keeps
them under a keyed hash of the event ID without the room, and the key (`voter.key`) is
not in the database, so the migration cannot hash them. Only an event seen again within
about a second of a crash before the upgrade could be handled twice; a vote or free text
given again replaces itself. Outbox rows keep their transaction IDs (the homeserver knows
a resend by them; `storage.outbox` still finds them by their key).

Revision ID: 0009
Revises: 0008
"""

import random
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage import shuffled
from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_votes = sa.table(
    "poll_vote", sa.column("id"), sa.column("poll_id"), sa.column("voter"), sa.column("answers")
)
_comments = sa.table(
    "survey_comment", sa.column("id"), sa.column("survey_id"), sa.column("voter"), sa.column("text")
)
_survey = sa.table("survey", sa.column("id"), sa.column("closed_at"), sa.column("participated"))


def _participants(*times: str) -> Any:
    return sa.table(
        "survey_participant",
        sa.column("survey_id"),
        sa.column("user_id"),
        sa.column("answered"),
        sa.column("reminded"),
        sa.column("thanked"),
        *(sa.column(t) for t in times),
    )


def _rewrite_all(conn: sa.Connection, table: Any, group: str, columns: list[str]) -> None:
    """Every group's rows (a poll's votes, a survey's texts) again, shuffled, new IDs."""
    for (key,) in list(conn.execute(sa.select(table.c[group]).distinct())):
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(*(table.c[c] for c in columns)).where(table.c[group] == key)
            ).mappings()
        ]
        shuffled.rewrite(conn, table, table.c[group] == key, rows)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":  # SQLite's INTEGER has 64 bits already
        for name in ("poll_vote", "survey_comment"):
            with op.batch_alter_table(name) as batch:
                batch.alter_column("id", existing_type=sa.Integer(), type_=sa.BigInteger())
    with op.batch_alter_table("survey") as batch:
        batch.add_column(sa.Column("participated", sa.Integer(), nullable=True))
    with op.batch_alter_table("survey_participant") as batch:
        batch.add_column(
            sa.Column("reminded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("thanked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    p = _participants("reminded_at", "thanked_at")
    conn.execute(sa.update(p).where(p.c.reminded_at.is_not(None)).values(reminded=True))
    conn.execute(sa.update(p).where(p.c.thanked_at.is_not(None)).values(thanked=True))
    with op.batch_alter_table("survey_participant") as batch:
        batch.drop_column("reminded_at")
        batch.drop_column("thanked_at")
    # Ended surveys keep how many took part, and nobody's participation.
    p = _participants()
    ended = sa.select(_survey.c.id).where(_survey.c.closed_at.is_not(None))
    took_part = (
        sa.select(sa.func.count())
        .where(p.c.survey_id == _survey.c.id, p.c.answered >= 1)
        .scalar_subquery()
    )
    conn.execute(
        sa.update(_survey).where(_survey.c.closed_at.is_not(None)).values(participated=took_part)
    )
    conn.execute(sa.delete(p).where(p.c.survey_id.in_(ended)))
    _rewrite_all(conn, _votes, "poll_id", ["poll_id", "voter", "answers"])
    _rewrite_all(conn, _comments, "survey_id", ["survey_id", "voter", "text"])
    _rewrite_all(conn, p, "survey_id", ["survey_id", "user_id", "answered", "reminded", "thanked"])
    processed = sa.table("processed_event", sa.column("room_id"))
    direct = sa.table("direct_room", sa.column("room_id"))
    conn.execute(sa.delete(processed).where(processed.c.room_id.in_(sa.select(direct.c.room_id))))
    # Earlier versions stored nio's made-up name of a DM room: the member's display name.
    # A DM room has no name of its own to keep (rooms the bot is in get theirs back from
    # the first sync after the upgrade).
    room = sa.table("room", sa.column("room_id"), sa.column("name"))
    conn.execute(
        sa.update(room).where(room.c.room_id.in_(sa.select(direct.c.room_id))).values(name=None)
    )


def _renumber(conn: sa.Connection, table: Any, columns: list[str]) -> None:
    """Random 64-bit IDs do not fit the old 32-bit column: 1, 2, … in random order."""
    rows = [dict(r) for r in conn.execute(sa.select(*(table.c[c] for c in columns))).mappings()]
    random.SystemRandom().shuffle(rows)
    conn.execute(sa.delete(table))
    for i, row in enumerate(rows, 1):
        row["id"] = i
    if rows:
        conn.execute(sa.insert(table), rows)


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("survey_participant") as batch:
        batch.add_column(sa.Column("reminded_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("thanked_at", UTCDateTime(), nullable=True))
    # The times are gone: the survey's start stands for them (a reminder or a thank-you
    # is still not sent twice).
    p = _participants("reminded_at", "thanked_at")
    started = sa.table("survey", sa.column("id"), sa.column("started_at"))
    start = sa.select(started.c.started_at).where(started.c.id == p.c.survey_id).scalar_subquery()
    conn.execute(sa.update(p).where(p.c.reminded.is_(True)).values(reminded_at=start))
    conn.execute(sa.update(p).where(p.c.thanked.is_(True)).values(thanked_at=start))
    with op.batch_alter_table("survey_participant") as batch:
        batch.drop_column("thanked")
        batch.drop_column("reminded")
    if conn.dialect.name == "sqlite":
        # Batch mode would copy the table, which others refer to (SQLite ≥ 3.35 drops it).
        op.execute("ALTER TABLE survey DROP COLUMN participated")
    else:
        with op.batch_alter_table("survey") as batch:
            batch.drop_column("participated")
    _renumber(conn, _votes, ["poll_id", "voter", "answers"])
    _renumber(conn, _comments, ["survey_id", "voter", "text"])
    if conn.dialect.name != "sqlite":
        for name in ("poll_vote", "survey_comment"):
            with op.batch_alter_table(name) as batch:
                batch.alter_column("id", existing_type=sa.BigInteger(), type_=sa.Integer())
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                )
            )
