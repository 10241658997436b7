"""The caseload: every course with where it stands and its latest scores."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.storage.models import Course, Score


def latest_totals(session: Session, course_ids: list[int]) -> dict[int, dict[str, int | None]]:
    """course id -> instrument -> the latest complete total."""
    result: dict[int, dict[str, int | None]] = {cid: {} for cid in course_ids}
    if not course_ids:
        return result
    query = (
        select(Score)
        .where(col(Score.course_id).in_(course_ids), col(Score.total).is_not(None))
        .order_by(col(Score.week))
    )
    for score in session.exec(query).all():
        result[score.course_id][score.instrument] = score.total
    return result


def case_rows(session: Session) -> list[dict[str, Any]]:
    courses = session.exec(select(Course).order_by(col(Course.id))).all()
    totals = latest_totals(session, [c.id for c in courses if c.id is not None])
    rows: list[dict[str, Any]] = []
    for course in courses:
        assert course.id is not None
        rows.append({
            "label": course.label,
            "program": course.program,
            "state": course.state,
            "week": course.week,
            "next_checkin": course.due_at.isoformat() if course.due_at and course.due_kind == "checkin" else None,
            "phq9": totals[course.id].get("phq9"),
            "gad7": totals[course.id].get("gad7"),
        })
    return rows
