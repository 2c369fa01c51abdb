"""the coordinator's desk: each room's rules of procedure with their history, and the log
of the monthly reports for the leadership

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_rules_text_room_id_room"),
        sa.PrimaryKeyConstraint("id", name="pk_rules_text"),
        sa.UniqueConstraint("source_event_id", name="uq_rules_text_source_event_id"),
    )
    op.create_index("ix_rules_text_room_id", "rules_text", ["room_id"])
    op.create_table(
        "report_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_log"),
        sa.UniqueConstraint("key", name="uq_report_log_key"),
    )


def downgrade() -> None:
    op.drop_table("report_log")
    op.drop_index("ix_rules_text_room_id", table_name="rules_text")
    op.drop_table("rules_text")
