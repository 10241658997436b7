"""dashboard: one-time login links and signed-in sessions, both stored only as hashes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", bot.storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinician.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_link_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "dashboard_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.storage.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", bot.storage.types.UTCDateTime(), nullable=True),
        sa.Column("handles", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinician.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_session_token_hash"), ["token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_session_token_hash"))

    op.drop_table("dashboard_session")
    with op.batch_alter_table("dashboard_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_link_token_hash"))

    op.drop_table("dashboard_link")
