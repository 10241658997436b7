"""indexes for 100,000 courses: the scheduler's due-scan, answers by question, and the inbox's unprocessed rows by chat

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    # due_at alone is replaced by (state, due_at): PostgreSQL chose it for the due-scan and
    # filtered out every closed course's old due time on the way.
    op.drop_index("ix_course_due_at", table_name="course")
    op.create_index("ix_course_due_scan", "course", ["state", "due_at"], unique=False)
    op.create_index("ix_course_expiry_scan", "course", ["state", "last_activity_at"], unique=False)
    op.create_index("ix_answer_key_course", "answer", ["key", "course_id"], unique=False)
    op.create_index("ix_alert_resend_scan", "alert", ["acknowledged_at", "next_resend_at"], unique=False)
    op.create_index(
        "ix_inbox_unprocessed",
        "inbox",
        ["chat_id", "update_id"],
        unique=False,
        sqlite_where=UNPROCESSED,
        postgresql_where=UNPROCESSED,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_unprocessed", table_name="inbox")
    op.drop_index("ix_alert_resend_scan", table_name="alert")
    op.drop_index("ix_answer_key_course", table_name="answer")
    op.drop_index("ix_course_expiry_scan", table_name="course")
    op.drop_index("ix_course_due_scan", table_name="course")
    op.create_index("ix_course_due_at", "course", ["due_at"], unique=False)
