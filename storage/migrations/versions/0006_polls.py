"""polls (pulse, general, the statements of a survey), their votes under a keyed hash of
the voter, and the annual survey with its participants (apart from the answers) and its
free-text answers

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("free_question", sa.Text(), nullable=True),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_survey_room_id_room"),
        sa.PrimaryKeyConstraint("id", name="pk_survey"),
        sa.UniqueConstraint("source_event_id", "room_id", name="uq_survey_source"),
    )
    op.create_index("ix_survey_room_id", "survey", ["room_id"])
    op.create_index("ix_survey_year", "survey", ["year"])
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("max_selections", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(255), nullable=True),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name="fk_poll_room_id_room"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], name="fk_poll_survey_id_survey"),
        sa.PrimaryKeyConstraint("id", name="pk_poll"),
        sa.UniqueConstraint("room_id", "number", name="uq_poll_room_id_number"),
        sa.UniqueConstraint("source_event_id", name="uq_poll_source_event_id"),
    )
    op.create_index("ix_poll_room_id", "poll", ["room_id"])
    op.create_index("ix_poll_kind", "poll", ["kind"])
    op.create_index("ix_poll_closed_at", "poll", ["closed_at"])
    op.create_index("ix_poll_survey_id", "poll", ["survey_id"])
    op.create_table(
        "poll_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"], name="fk_poll_vote_poll_id_poll"),
        sa.PrimaryKeyConstraint("id", name="pk_poll_vote"),
        sa.UniqueConstraint("poll_id", "voter", name="uq_poll_vote_poll_id_voter"),
    )
    op.create_index("ix_poll_vote_poll_id", "poll_vote", ["poll_id"])
    op.create_table(
        "survey_participant",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("thanked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["survey.id"], name="fk_survey_participant_survey_id_survey"
        ),
        sa.PrimaryKeyConstraint("survey_id", "user_id", name="pk_survey_participant"),
    )
    op.create_table(
        "survey_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["survey.id"], name="fk_survey_comment_survey_id_survey"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_survey_comment"),
        sa.UniqueConstraint("survey_id", "voter", name="uq_survey_comment_survey_id_voter"),
    )
    op.create_index("ix_survey_comment_survey_id", "survey_comment", ["survey_id"])


def downgrade() -> None:
    op.drop_table("survey_comment")
    op.drop_table("survey_participant")
    op.drop_table("poll_vote")
    op.drop_table("poll")
    op.drop_table("survey")
