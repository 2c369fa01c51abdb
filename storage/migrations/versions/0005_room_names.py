"""each room's name as its members see it, for texts about several rooms (the overview,
the leadership report, the evaluation table, exports)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("room") as batch:
        batch.add_column(sa.Column("name", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room") as batch:
        batch.drop_column("name")
