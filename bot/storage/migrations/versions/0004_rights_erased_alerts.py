"""alerts kept after /delete until a clinician acknowledges them; outbox ids never reused

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", bot.storage.types.UTCDateTime(), nullable=True))
    if op.get_context().dialect.name == "sqlite":
        # /delete erases outbox rows, the newest too; SQLite would then give their ids again,
        # below the highest the sender has seen. AUTOINCREMENT never reuses an id.
        with op.batch_alter_table("outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("outbox", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
