"""The scheduler finds due rows in the database and turns them into timer events.

It keeps no job list in memory, so a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.clinicians.expiry import close_expired
from bot.engine.events import Event
from bot.storage.models import Alert, Course
from state_machines.course import RUNNING


def due_events(session: Session, now: datetime, limit: int = 500, *, course_ttl_days: int = 365) -> list[Event]:
    close_expired(session, now, timedelta(days=course_ttl_days), limit)
    courses = session.exec(
        select(Course.id)
        .where(col(Course.due_at) <= now, col(Course.state).in_(RUNNING))
        .order_by(col(Course.due_at))
        .limit(limit)
    ).all()
    alerts = session.exec(
        select(Alert.id)
        .where(col(Alert.next_resend_at) <= now, col(Alert.acknowledged_at).is_(None))
        .order_by(col(Alert.next_resend_at))
        .limit(limit)
    ).all()
    events = [Event.timer(course_id) for course_id in courses if course_id is not None]
    events.extend(Event("timer", data=f"alert:{alert_id}") for alert_id in alerts if alert_id is not None)
    return events
