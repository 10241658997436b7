"""Reading one course's answers and scores into plain facts for templates.

The answers and scores are read only when a text uses them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.dialogs.context import CourseFacts, Lazy
from bot.storage.models import Answer, Course, Score

PART_LAG = "part_lag"  # scratch: weeks the continuity path kept the person on the same part


def load_facts(session: Session, course: Course, next_checkin: str | None) -> CourseFacts:
    course_id, week = course.id, course.week
    assert course_id is not None

    def answers(this_week: bool) -> dict[str, Any]:
        query = select(Answer.key, Answer.value).where(Answer.course_id == course_id)
        if this_week:
            query = query.where(Answer.week == week)
        return {key: value for key, value in session.exec(query.order_by(col(Answer.id))).all()}

    def scores() -> dict[str, dict[int, int | None]]:
        by_instrument: dict[str, dict[int, int | None]] = {}
        query = select(Score.instrument, Score.week, Score.total).where(Score.course_id == course_id)
        for instrument, score_week, total in session.exec(query).all():
            by_instrument.setdefault(instrument, {})[score_week] = total
        return by_instrument

    return CourseFacts(
        label=course.label,
        program=course.program,
        week=course.week,
        answers=Lazy(lambda: answers(this_week=False)),
        week_answers=Lazy(lambda: answers(this_week=True)),
        scores=Lazy(scores),
        checkin_day=course.checkin_weekday,
        checkin_time=course.checkin_time,
        next_checkin=next_checkin,
        checkins_done=int(course.scratch.get("checkins_done", 0)),
        state=course.state,
        part_lag=int(course.scratch.get(PART_LAG, 0)),
        flow=course.flow,
    )
