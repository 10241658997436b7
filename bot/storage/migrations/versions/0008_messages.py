"""messages between clinician and participant, and the feedback queue (course.feedback_due_at)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["clinician_id"], ["clinician.id"]),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_course_id"), ["course_id"], unique=False)
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_due_at", bot.storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_course_feedback_due_at"), ["feedback_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_feedback_due_at"))
        batch_op.drop_column("feedback_due_at")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_course_id"))
    op.drop_table("message")
