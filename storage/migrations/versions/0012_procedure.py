"""the rules of procedure at work: each committee's rules parameters and voting members,
decisions (by circulation or in a meeting), agenda requests, objections to minutes, the
roll call's answer of an attendee and the minutes' approval

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_rules",
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.room_id"], name="fk_procedure_rules_room_id_room"
        ),
        sa.PrimaryKeyConstraint("room_id", name="pk_procedure_rules"),
    )
    op.create_table(
        "voting_member",
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.room_id"], name="fk_voting_member_room_id_room"
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name="pk_voting_member"),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("participated", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_decision_room_id_room"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], name="fk_decision_poll_id_poll"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="fk_decision_meeting_id_meeting"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_decision"),
        sa.UniqueConstraint("room_id", "year", "number", name="uq_decision_room_id_year_number"),
        sa.UniqueConstraint("source_event_id", name="uq_decision_source_event_id"),
    )
    op.create_index("ix_decision_room_id", "decision", ["room_id"])
    op.create_index("ix_decision_outcome", "decision", ["outcome"])
    op.create_index("ix_decision_poll_id", "decision", ["poll_id"])
    op.create_index("ix_decision_meeting_id", "decision", ["meeting_id"])
    op.create_table(
        "agenda_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(255), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.room_id"], name="fk_agenda_request_room_id_room"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_request"),
        sa.UniqueConstraint("source_event_id", name="uq_agenda_request_source_event_id"),
    )
    op.create_index("ix_agenda_request_room_id", "agenda_request", ["room_id"])
    op.create_table(
        "minutes_objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="fk_minutes_objection_meeting_id_meeting"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_minutes_objection"),
        sa.UniqueConstraint("source_event_id", name="uq_minutes_objection_source_event_id"),
    )
    op.create_index("ix_minutes_objection_meeting_id", "minutes_objection", ["meeting_id"])
    # Nullable columns: no copy of the tables, in batch mode on SQLite neither.
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(sa.Column("minutes_approved_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("meeting_attendee") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode would copy the tables, which others refer to (SQLite ≥ 3.35 drops it).
        op.execute("ALTER TABLE meeting_attendee DROP COLUMN status")
        op.execute("ALTER TABLE meeting DROP COLUMN minutes_approved_at")
    else:
        with op.batch_alter_table("meeting_attendee") as batch:
            batch.drop_column("status")
        with op.batch_alter_table("meeting") as batch:
            batch.drop_column("minutes_approved_at")
    op.drop_index("ix_minutes_objection_meeting_id", table_name="minutes_objection")
    op.drop_table("minutes_objection")
    op.drop_index("ix_agenda_request_room_id", table_name="agenda_request")
    op.drop_table("agenda_request")
    for index in ("meeting_id", "poll_id", "outcome", "room_id"):
        op.drop_index(f"ix_decision_{index}", table_name="decision")
    op.drop_table("decision")
    op.drop_table("voting_member")
    op.drop_table("procedure_rules")
