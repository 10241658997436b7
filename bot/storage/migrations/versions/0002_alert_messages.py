"""alert messages, held alerts and the chat of an unregistered sender

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("messages", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("held_until", bot.storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("chat_id")
        batch_op.drop_column("held_until")
        batch_op.drop_column("messages")
