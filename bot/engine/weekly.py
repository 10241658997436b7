"""The weekly rhythm: a check-in opens on the chosen day, reminders follow, a missed week is
noticed, two missed weeks are a dropout, and a year without activity closes the course.

The scheduler (`bot/scheduler.py`) finds what is due; each due course comes here as a
timer event, in its own transaction.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.dialogs import contract, evidence
from bot.engine import policy
from bot.engine.alerts import raise_signal
from bot.engine.codes import audit
from bot.engine.rhythm import MOVED_WEEK, not_this_week_button
from bot.engine.schedule import (
    BOOSTER,
    BOOSTERS_DONE,
    WEEK,
    due_anchor,
    in_waking_hours,
    schedule_booster,
    set_due,
    start_reminders,
)
from bot.engine.turn import Turn
from bot.storage.models import Course
from state_machines.course import RUNNING, fire

BOOSTER_FLOW = contract.BOOSTER_FLOW


def _locked_course(turn: Turn) -> Course | None:
    query = select(Course).where(Course.id == turn.event.course_id).with_for_update()
    return turn.session.exec(query).first()


def on_due(turn: Turn) -> None:
    """The course's next thing is due: the check-in opens, a reminder, or a missed week."""
    course = _locked_course(turn)
    if course is None or course.due_at is None or course.due_at > turn.now:
        return
    booster = course.state == "completed" and course.due_kind == BOOSTER
    if course.state not in RUNNING and not booster:
        return
    turn.course = course
    kind = course.due_kind
    if booster:
        _booster(turn)
    elif kind == "checkin":
        begin_week(turn)
    elif kind == "reminder":
        _remind(turn)
    elif kind == "missed":
        _missed(turn)
    else:
        set_due(course, None, None)


def begin_week(turn: Turn) -> None:
    """Open this week's conversation: a check-in, or the closing in the last week.

    This is where a weekly check-in starts: the week's flow (schedule.yaml) runs up to
    its first question.
    """
    course = turn.course
    assert course is not None
    schedule = turn.dialogs.schedule
    week = schedule.weeks.get(course.week) or schedule.weeks[schedule.last_week]
    trigger = "start_closing" if course.week >= schedule.last_week else "start_checkin"
    if not fire(course, trigger):
        set_due(course, None, None)
        return
    start_reminders(course, turn.now, schedule.reminder_hours)
    policy.start_flow(turn, week.flow, one_message=True)


def _remind(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    schedule = turn.dialogs.schedule
    hours = schedule.reminder_hours
    n = course.reminders_sent + 1
    if turn.step() is None or n > len(hours):
        set_due(course, due_anchor(course, turn.now) + WEEK, "missed")
        return
    awake = in_waking_hours(turn.now, ZoneInfo(course.timezone), schedule.waking_hours)
    if awake > turn.now:  # quiet hours: the reminder waits for the morning
        set_due(course, awake, "reminder")
        return
    movable = course.state == "checkin" and course.scratch.get(MOVED_WEEK) != course.week
    turn.say("reminder.text", n=n, hours=hours[n - 1], buttons=not_this_week_button(turn) if movable else None)
    policy.reask(turn)
    course.reminders_sent = n
    if n < len(hours):
        set_due(course, due_anchor(course, turn.now) + timedelta(hours=hours[n]), "reminder")
    else:
        set_due(course, due_anchor(course, turn.now) + WEEK, "missed")


def _booster(turn: Turn) -> None:
    """A booster check-in after the closing: a short measure (with the risk item), a look at the
    safety plan, and an offer to talk to the clinician (dialogs/flows/booster.yaml)."""
    course = turn.course
    assert course is not None
    newer = select(Course.id).where(Course.chat_id == course.chat_id, col(Course.id) > course.id)
    if course.chat_id is None or turn.session.exec(newer).first() is not None:
        set_due(course, None, None)  # the person has begun a new course (or left): that one speaks now
        return
    done = int(course.scratch.get(BOOSTERS_DONE, 0)) + 1
    turn.set_scratch(BOOSTERS_DONE, done)
    course.week = turn.dialogs.schedule.last_week + done  # its scores stand beside the course's weeks
    turn.forget_facts()
    audit(turn.session, turn.now, "engine", "booster_opened", course.label, booster=done)
    schedule_booster(course, turn.dialogs.schedule.booster_days)
    policy.start_flow(turn, BOOSTER_FLOW)


def _missed(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    schedule = turn.dialogs.schedule
    course.missed_weeks += 1
    audit(turn.session, turn.now, "engine", "checkin_missed", course.label, week=course.week)
    if course.missed_weeks >= schedule.missed_weeks_to_dropout:
        drop_out(turn)
        return
    # The first missed week: a notice for the clinician (not re-sent); the next one is the dropout.
    raise_signal(turn, contract.MISSED_CHECKIN, evidence.missed_week(course.week))
    turn.say("missed.week")
    week = schedule.weeks.get(course.week) or schedule.weeks[schedule.last_week]
    start_reminders(course, turn.now, schedule.reminder_hours)
    policy.start_flow(turn, week.flow, one_message=True)


def drop_out(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    fire(course, "drop_out")
    course.flow = None
    course.step = None
    set_due(course, None, None)
    audit(turn.session, turn.now, "engine", "dropped_out", course.label, week=course.week)
    raise_signal(turn, contract.DISENGAGEMENT, evidence.missed_weeks(course.missed_weeks))
    turn.say("dropout.notice")
    if fire(course, "start_dropout_eval"):
        policy.start_flow(turn, contract.DROPOUT_FLOW)


def expire(turn: Turn) -> None:
    """A year (GUIDEBOT_COURSE_TTL_DAYS) after the person's last activity the course closes."""
    course = _locked_course(turn)
    if course is None or course.state == "closed" or course.last_activity_at > turn.now - course_ttl(turn):
        return
    was = course.state
    fire(course, "close")
    course.flow = course.step = None
    set_due(course, None, None)
    course.scratch = {**course.scratch, "closed_from": was}
    audit(turn.session, turn.now, "engine", "course_expired", course.label, from_state=was)


def course_ttl(turn: Turn) -> timedelta:
    return timedelta(days=turn.config.course_ttl_days)
