"""dead columns: course.item_index and outbox.not_before were never read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("item_index")
    # On SQLite the outbox is copied: keep its ids growing (0004).
    with op.batch_alter_table("outbox", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("not_before")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("not_before", bot.storage.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_index", sa.Integer(), nullable=False, server_default="0"))
