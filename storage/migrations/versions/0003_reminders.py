"""reminders set with !erinnere, the log of handled reminder occurrences, snoozes, the lease;
an index of agreements by status and due date

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mentions", sa.Text(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("recurrence", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("active_since", UTCDateTime(), nullable=False),
        sa.Column("last_fired_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_reminder_room_id_room"),
        sa.PrimaryKeyConstraint("id", name="pk_reminder"),
        sa.UniqueConstraint("room_id", "number", name="uq_reminder_room_id_number"),
        sa.UniqueConstraint("source_event_id", name="uq_reminder_source_event_id"),
    )
    op.create_index("ix_reminder_room_id", "reminder", ["room_id"])
    op.create_index("ix_reminder_status", "reminder", ["status"])
    op.create_table(
        "reminder_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("reminder_id", sa.Integer(), nullable=True),
        sa.Column("occurrence_at", UTCDateTime(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_log"),
        sa.UniqueConstraint("key", name="uq_reminder_log_key"),
    )
    op.create_index("ix_reminder_log_room_id", "reminder_log", ["room_id"])
    op.create_index("ix_reminder_log_agreement_id", "reminder_log", ["agreement_id"])
    op.create_index("ix_reminder_log_reminder_id", "reminder_log", ["reminder_id"])
    op.create_table(
        "reminder_snooze",
        sa.Column("ref_kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref_kind", "ref_id", name="pk_reminder_snooze"),
    )
    op.create_index("ix_reminder_snooze_room_id", "reminder_snooze", ["room_id"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lease"),
    )
    # The scheduler looks up open agreements by due date at every wake-up.
    op.create_index("ix_agreement_status_due_date", "agreement", ["status", "due_date"])


def downgrade() -> None:
    op.drop_index("ix_agreement_status_due_date", table_name="agreement")
    op.drop_table("scheduler_lease")
    op.drop_index("ix_reminder_snooze_room_id", table_name="reminder_snooze")
    op.drop_table("reminder_snooze")
    op.drop_index("ix_reminder_log_reminder_id", table_name="reminder_log")
    op.drop_index("ix_reminder_log_agreement_id", table_name="reminder_log")
    op.drop_index("ix_reminder_log_room_id", table_name="reminder_log")
    op.drop_table("reminder_log")
    op.drop_index("ix_reminder_status", table_name="reminder")
    op.drop_index("ix_reminder_room_id", table_name="reminder")
    op.drop_table("reminder")
