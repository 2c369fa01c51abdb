"""agreements, their owners and history; room roles

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_time", sa.Time(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_agreement_room_id_room"),
        sa.PrimaryKeyConstraint("id", name="pk_agreement"),
        sa.UniqueConstraint("room_id", "number", name="uq_agreement_room_id_number"),
        sa.UniqueConstraint("source_event_id", name="uq_agreement_source_event_id"),
    )
    op.create_index("ix_agreement_room_id", "agreement", ["room_id"])
    op.create_index("ix_agreement_status", "agreement", ["status"])
    op.create_table(
        "agreement_owner",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreement.id"], name="fk_agreement_owner_agreement_id_agreement"
        ),
        sa.PrimaryKeyConstraint("agreement_id", "user_id", name="pk_agreement_owner"),
    )
    op.create_table(
        "agreement_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_event_id", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreement.id"], name="fk_agreement_history_agreement_id_agreement"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agreement_history"),
    )
    op.create_index("ix_agreement_history_agreement_id", "agreement_history", ["agreement_id"])
    op.create_table(
        "room_role",
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_room_role_room_id_room"),
        sa.PrimaryKeyConstraint("room_id", "user_id", name="pk_room_role"),
    )


def downgrade() -> None:
    op.drop_table("room_role")
    op.drop_table("agreement_history")
    op.drop_table("agreement_owner")
    op.drop_table("agreement")
