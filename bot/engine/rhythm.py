"""The person's own rhythm: the gate on /checkin, /schedule (a new weekly slot), and
"not this week" (this week's check-in two days later, once a week).

The timing rules themselves (the slot, waking hours) are in `schedule.py`; this module
decides what a command or a button means for the course and says so.
"""

from __future__ import annotations

from datetime import timedelta

from bot.dialogs import contract
from bot.engine import policy
from bot.engine.codes import audit
from bot.engine.schedule import ANCHOR, due_anchor, set_due
from bot.engine.slots import earliest_checkin, when_words
from bot.engine.turn import Turn

MOVED_WEEK = "moved_week"  # Course.scratch: the week whose check-in was moved ("not this week")
NOT_THIS_WEEK_DAYS = 2
RESCHEDULE_FLOW = contract.RESCHEDULE_FLOW


# -- the gate on /checkin ---------------------------------------------------------


def too_early(turn: Turn) -> bool:
    """/checkin before the gap has passed: say kindly when the next check-in is, and offer /plan."""
    course = turn.course
    assert course is not None
    earliest = earliest_checkin(turn)
    if turn.now >= earliest:
        return False
    when = course.due_at if course.due_at is not None and course.due_kind == "checkin" else earliest
    turn.say("rhythm.too_early", **when_words(turn, when))
    return True


# -- /schedule ----------------------------------------------------------------------


def reschedule(turn: Turn) -> None:
    """/schedule: choose a new weekly day and time, with the intake's buttons.

    A course has one conversation at a time: in the middle of one, it says so and goes on.
    """
    course = turn.course
    assert course is not None
    if course.state not in ("active", "checkin", "closing"):
        turn.say("rhythm.schedule_not_now")
        return
    if turn.step() is not None:
        turn.say("rhythm.schedule_later")
        policy.reask(turn)
        return
    policy.start_flow(turn, RESCHEDULE_FLOW)


# -- "not this week" ------------------------------------------------------------------


def not_this_week_button(turn: Turn) -> list[list[dict[str, str]]]:
    """The reminder's button; it carries the week, so a button from another week is stale."""
    assert turn.course is not None
    return [[{"text": turn.text("rhythm.not_this_week"), "data": f"w:{turn.course.week}"}]]


def on_not_this_week(turn: Turn, week_text: str) -> None:
    """The check-in of this week opens again two days later; reminders follow from then."""
    course = turn.course
    assert course is not None
    fresh = course.state == "checkin" and week_text == str(course.week) and turn.step() is not None
    if not fresh or course.scratch.get(MOVED_WEEK) == course.week:
        turn.ack_button()
        turn.say("rhythm.cannot_move")
        return
    turn.ack_button()
    anchor = due_anchor(course, turn.now) + timedelta(days=NOT_THIS_WEEK_DAYS)
    turn.set_scratch(MOVED_WEEK, course.week)
    turn.set_scratch(ANCHOR, anchor.isoformat())
    course.reminders_sent = 0
    set_due(course, anchor, "reminder")
    audit(turn.session, turn.now, "user", "checkin_moved", course.label, week=course.week)
    turn.say("rhythm.moved", **when_words(turn, anchor))
