"""meetings and their minutes, who attended, each room's meeting plan, the follow-up
agendas posted

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("started_by", sa.String(255), nullable=False),
        sa.Column("ended_by", sa.String(255), nullable=True),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_meeting_room_id_room"),
        sa.PrimaryKeyConstraint("id", name="pk_meeting"),
        sa.UniqueConstraint("room_id", "number", name="uq_meeting_room_id_number"),
        sa.UniqueConstraint("source_event_id", name="uq_meeting_source_event_id"),
    )
    op.create_index("ix_meeting_room_id", "meeting", ["room_id"])
    op.create_table(
        "meeting_attendee",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="fk_meeting_attendee_meeting_id_meeting"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "user_id", name="pk_meeting_attendee"),
    )
    op.create_table(
        "meeting_plan",
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("next_time", sa.Time(), nullable=True),
        sa.Column("recurrence", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_meeting_plan_room_id_room"),
        sa.PrimaryKeyConstraint("room_id", name="pk_meeting_plan"),
    )
    op.create_table(
        "meeting_agenda",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_agenda"),
        sa.UniqueConstraint(
            "room_id", "meeting_date", name="uq_meeting_agenda_room_id_meeting_date"
        ),
    )
    op.create_index("ix_meeting_agenda_room_id", "meeting_agenda", ["room_id"])


def downgrade() -> None:
    op.drop_table("meeting_agenda")
    op.drop_table("meeting_plan")
    op.drop_table("meeting_attendee")
    op.drop_index("ix_meeting_room_id", table_name="meeting")
    op.drop_table("meeting")
