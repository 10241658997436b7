"""operations: retention marks (course closed and anonymised, outbox text cleared) and the indexes
the retention pass and the metrics read through

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", bot.storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", bot.storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_course_retention", ["state", "anonymised_at", "closed_at"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cleared_at", bot.storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_outbox_retention", ["cleared_at", "created_at"], unique=False)
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_open", ["level", "acknowledged_at", "created_at"], unique=False)
    with op.batch_alter_table("accesscode", schema=None) as batch_op:
        batch_op.create_index("ix_accesscode_unused", ["redeemed_at", "expires_at"], unique=False)
    with op.batch_alter_table("codeattempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_codeattempt_at"), ["at"], unique=False)
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_subject"), ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_subject"))
    with op.batch_alter_table("codeattempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_codeattempt_at"))
    with op.batch_alter_table("accesscode", schema=None) as batch_op:
        batch_op.drop_index("ix_accesscode_unused")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_open")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_retention")
        batch_op.drop_column("cleared_at")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index("ix_course_retention")
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("closed_at")
