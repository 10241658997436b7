"""The few facts the outcome report needs of a course beyond its scores, kept through anonymisation.

The retention pass deletes a closed course's answers and access code; before it does, it keeps
these two non-identifying facts in the course's scratch (`KEY`), so the report stays the same:
the dropout reason chosen in the dropout flow, and the days from the code to the first conversation.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.storage.models import AccessCode, Answer, Course

KEY = "report_facts"
REASON_KEY = "dropout_reason"


def kept_facts(session: Session, course: Course) -> dict[str, Any]:
    """{"reason": str | None, "days_to_first": float | None} for the course, as stored now."""
    assert course.id is not None
    answers = session.exec(
        select(Answer).where(Answer.course_id == course.id, Answer.key == REASON_KEY).order_by(col(Answer.id))
    ).all()
    reasons = [str(a.value) for a in answers if a.value is not None]
    code = session.exec(select(AccessCode).where(AccessCode.label == course.label)).first()
    days = round((course.started_at - code.created_at).total_seconds() / 86400, 2) if code is not None else None
    return {"reason": reasons[-1] if reasons else None, "days_to_first": days}
