"""Reading one course's answers and scores into plain facts for templates."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.dialogs.context import CourseFacts
from bot.storage.models import Answer, Course, Score


def load_facts(session: Session, course: Course, next_checkin: str | None) -> CourseFacts:
    assert course.id is not None
    answers: dict[str, Any] = {}
    week_answers: dict[str, Any] = {}
    rows = session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all()
    for row in rows:
        answers[row.key] = row.value
        if row.week == course.week:
            week_answers[row.key] = row.value
    scores: dict[str, dict[int, int | None]] = {}
    for score in session.exec(select(Score).where(Score.course_id == course.id)).all():
        scores.setdefault(score.instrument, {})[score.week] = score.total
    checkins = int(course.scratch.get("checkins_done", 0))
    return CourseFacts(
        label=course.label,
        program=course.program,
        week=course.week,
        answers=answers,
        week_answers=week_answers,
        scores=scores,
        checkin_day=course.checkin_weekday,
        checkin_time=course.checkin_time,
        next_checkin=next_checkin,
        checkins_done=checkins,
        state=course.state,
    )
