"""every effect through the outbox: rows for a member's direct-message room (room resolved
at send time), rows relating to an earlier row's event (edits, poll ends), files kept apart
from the outbox's JSON; each member's direct-message room

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        # A row for a member's direct-message room learns its room only when it is sent.
        batch.alter_column("room_id", existing_type=sa.String(255), nullable=True)
        # Every row stored so far is a text message.
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="reply"))
        batch.add_column(sa.Column("to_user", sa.String(255), nullable=True))
        batch.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbox_target_id_outbox", "outbox", ["target_id"], ["id"])
        batch.create_index("ix_outbox_to_user", ["to_user"])
    op.create_table(
        "outbox_file",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("mimetype", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_outbox_file_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_outbox_file"),
    )
    op.create_table(
        "direct_room",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_direct_room"),
        sa.UniqueConstraint("room_id", name="uq_direct_room_room_id"),
    )


def downgrade() -> None:
    op.drop_table("direct_room")
    op.drop_table("outbox_file")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_to_user")
        batch.drop_constraint("fk_outbox_target_id_outbox", type_="foreignkey")
        batch.drop_column("target_id")
        batch.drop_column("to_user")
        batch.drop_column("kind")
    # The old schema has no place for a message whose room is not known yet.
    op.execute("DELETE FROM outbox WHERE room_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("room_id", existing_type=sa.String(255), nullable=False)
