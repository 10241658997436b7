"""Courses stay open for a year after the user's last activity, then close."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.engine.codes import audit
from bot.storage.models import Course
from state_machines.course import fire


def close_expired(session: Session, now: datetime, ttl: timedelta, limit: int = 500) -> int:
    """Close courses idle for longer than `ttl`; returns how many were closed."""
    query = (
        select(Course)
        .where(col(Course.last_activity_at) <= now - ttl, Course.state != "closed")
        .order_by(col(Course.last_activity_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    courses = session.exec(query).all()
    for course in courses:
        was = course.state
        fire(course, "close")
        course.flow = course.step = None
        course.due_at = None
        course.due_kind = None
        course.scratch = {**course.scratch, "closed_from": was}
        audit(session, now, "engine", "course_expired", course.label, from_state=was)
    return len(courses)
