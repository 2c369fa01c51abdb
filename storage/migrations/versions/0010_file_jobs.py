"""files made later: an outbox row of kind `file` may hold the job that makes its file
(`file_job`, JSON) instead of the file, made off the database thread after the command

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a nullable column needs no copy of the table, in batch mode on SQLite neither.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("file_job", sa.Text(), nullable=True))


def downgrade() -> None:
    # The older version cannot make a file: a message still waiting for one fails for good
    # (it would fail at send time anyway, its file not being stored).
    outbox = sa.table(
        "outbox",
        sa.column("status"),
        sa.column("file_job"),
        sa.column("last_error"),
    )
    op.get_bind().execute(
        sa.update(outbox)
        .where(outbox.c.file_job.is_not(None), outbox.c.status == "pending")
        .values(status="failed", last_error="its file was still to be made at a downgrade")
    )
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode would copy the table, which others refer to (SQLite ≥ 3.35 drops it).
        op.execute("ALTER TABLE outbox DROP COLUMN file_job")
    else:
        with op.batch_alter_table("outbox") as batch:
            batch.drop_column("file_job")
