"""what the leadership's report needs: a reason for a delay on each agreement, measures
taken on an evaluation, and the members' offices

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: no copy of the table, in batch mode on SQLite neither.
    with op.batch_alter_table("agreement") as batch:
        batch.add_column(sa.Column("delay_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("delay_reason_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("measure_year", sa.Integer(), nullable=True))
    op.create_index("ix_agreement_measure_year", "agreement", ["measure_year"])
    op.create_table(
        "member_office",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_member_office"),
    )


def downgrade() -> None:
    op.drop_table("member_office")
    op.drop_index("ix_agreement_measure_year", table_name="agreement")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode would copy the table, which others refer to (SQLite ≥ 3.35 drops it).
        for column in ("measure_year", "delay_reason_at", "delay_reason"):
            op.execute(f"ALTER TABLE agreement DROP COLUMN {column}")
    else:
        with op.batch_alter_table("agreement") as batch:
            batch.drop_column("measure_year")
            batch.drop_column("delay_reason_at")
            batch.drop_column("delay_reason")
