"""The person's weekly slot: when the next check-in may open (the schedule's gaps), a new
slot chosen with /schedule, and times as the texts take them.

Below `policy.py`: the reschedule flow's `do:` step (`actions.py`) calls in here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.codes import audit
from bot.engine.schedule import schedule_checkin
from bot.engine.turn import Turn

INTAKE_DONE = "intake_finished_at"  # Course.scratch: when the intake was finished, for the first gap


def earliest_checkin(turn: Turn) -> datetime:
    """The earliest time the next check-in may open: the schedule's gap after the intake or
    after the last finished check-in (`first_checkin_min_days`, `min_days_between_checkins`)."""
    course = turn.course
    assert course is not None
    schedule = turn.dialogs.schedule
    if course.last_checkin_at is not None:
        return course.last_checkin_at + timedelta(days=schedule.min_days_between_checkins)
    raw = course.scratch.get(INTAKE_DONE)
    base = datetime.fromisoformat(raw) if isinstance(raw, str) else course.started_at
    return base + timedelta(days=schedule.first_checkin_min_days)


def apply_new_slot(turn: Turn) -> None:
    """The new slot is the course's from the next check-in on (the reschedule flow's `do:`)."""
    course = turn.course
    assert course is not None
    answers = turn.facts().week_answers
    day, at = answers.get("checkin_day"), answers.get("checkin_time")
    if isinstance(day, (str, int)) and str(day).isdigit() and 0 <= int(day) <= 6:
        course.checkin_weekday = int(day)
    if isinstance(at, str):
        course.checkin_time = at
    if course.state == "active" and course.due_kind == "checkin":
        schedule_checkin(course, max(turn.now, earliest_checkin(turn)), 0)
    audit(turn.session, turn.now, "user", "checkin_rescheduled", course.label)
    turn.forget_facts()


def when_words(turn: Turn, when: datetime) -> dict[str, Any]:
    """A time as the texts take it: weekday, day, month and the time of day as the locale writes
    it (`format.time`), in the course's time zone."""
    assert turn.course is not None
    local = when.astimezone(ZoneInfo(turn.course.timezone))
    return {
        "weekday": turn.text(f"weekday.{local.weekday()}"),
        "day": local.day,
        "month": turn.text(f"month.{local.month}"),
        "time": turn.renderer.clock(turn.locale, local.strftime("%H:%M")),
    }
