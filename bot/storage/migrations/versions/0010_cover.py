"""cover: a clinician away (/away UNTIL NAME, /back) and the colleague who covers

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("colleague_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("until", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", bot.storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["clinician_id"], ["clinician.id"]),
        sa.ForeignKeyConstraint(["colleague_id"], ["clinician.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cover", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cover_clinician_id"), ["clinician_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cover_colleague_id"), ["colleague_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cover", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cover_colleague_id"))
        batch_op.drop_index(batch_op.f("ix_cover_clinician_id"))
    op.drop_table("cover")
