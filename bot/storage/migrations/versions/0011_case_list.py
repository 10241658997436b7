"""indexes for `guidebot cases`: each course's latest scores, and its homework answers

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

HOMEWORK = sa.text("key = 'homework_done'")


def upgrade() -> None:
    op.create_index("ix_score_latest", "score", ["course_id", "instrument", "week", "total"], unique=False)
    # Only the answers to "did you do the homework?", with their value, so counting them reads
    # the index alone. PostgreSQL has no b-tree order for a JSON value, so there it is carried
    # (INCLUDE) rather than indexed. Not in the models (one Index cannot differ in its columns by
    # database); bot/storage/models.py names it in MIGRATION_ONLY_INDEXES.
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_answer_homework", "answer", ["course_id"], postgresql_include=["value"], postgresql_where=HOMEWORK
        )
    else:
        op.create_index("ix_answer_homework", "answer", ["course_id", "value"], sqlite_where=HOMEWORK)


def downgrade() -> None:
    op.drop_index("ix_answer_homework", table_name="answer")
    op.drop_index("ix_score_latest", table_name="score")
