"""/pause, /resume, /checkin and /close for a case, by its label.

The course changes through the same functions the user's own commands use
(`bot/engine/commands.py`); what they say goes to the user's chat, in the user's language.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.clinicians.access import may_view_case
from bot.clinicians.desk import Desk
from bot.engine import commands
from bot.engine.outgoing import Buttons
from bot.engine.turn import Turn
from bot.storage.models import Course
from state_machines.course import can, fire

# The next step of stepped care, recorded when a case is closed.
NEXT_STEPS = ("none", "group", "therapy", "referral")
DROPPED = ("dropped_out", "dropout_eval")


def find_case(desk: Desk, args: str, command: str) -> Course | None:
    """The course named by the command's label, or None after telling the clinician why."""
    label = args.split(maxsplit=1)[0] if args.strip() else ""
    if not label:
        desk.reply("clinician.care.usage", command=command)
        return None
    course = desk.course(label)
    if course is None:
        desk.reply("clinician.case_not_found", label=label)
    elif not may_view_case(desk.clinician, course, desk.covering()):
        desk.audit("case_access_refused", course.label, command=command)
        desk.reply("owners.not_yours", label=course.label)
        return None
    return course


def _as_user(desk: Desk, course: Course, action: Callable[[Turn], None]) -> None:
    """Run a user command's function on `course`, as if in the user's own turn."""
    turn = desk.turn
    turn.course = course
    turn.forget_facts()
    try:
        action(turn)
    finally:
        turn.course = None
        turn.forget_facts()


def _done(desk: Desk, course: Course, action: str) -> None:
    desk.audit(f"case_{action}", course.label, state=course.state)
    desk.reply(
        "clinician.care.done", action=action, label=course.label, week=course.week, unreachable=course.unreachable
    )


def _refused(desk: Desk, course: Course, action: str) -> None:
    desk.reply(
        "clinician.care.refused",
        action=action,
        label=course.label,
        state_name=desk.text(f"clinician.state.{course.state}"),
    )


def pause_case(desk: Desk, args: str) -> None:
    course = find_case(desk, args, "pause")
    if course is None:
        return
    if not can(course, "pause"):
        _refused(desk, course, "paused")
        return
    _as_user(desk, course, commands.pause)
    _done(desk, course, "paused")


def resume_case(desk: Desk, args: str) -> None:
    course = find_case(desk, args, "resume")
    if course is None:
        return
    if course.state != "paused" and course.state not in DROPPED:
        _refused(desk, course, "resumed")
        return
    _as_user(desk, course, commands.resume)
    _done(desk, course, "resumed")


def checkin_case(desk: Desk, args: str) -> None:
    course = find_case(desk, args, "checkin")
    if course is None:
        return
    if course.state != "active" and course.state not in DROPPED:
        _refused(desk, course, "checkin")
        return
    _as_user(desk, course, commands.open_checkin)
    if course.state in ("checkin", "closing"):
        _done(desk, course, "checkin")
    else:
        _refused(desk, course, "checkin")


def close_case(desk: Desk, args: str) -> None:
    """Ask for the next step of care (or take it from the command) and close."""
    course = find_case(desk, args, "close")
    if course is None:
        return
    words = args.split()
    if len(words) > 1 and words[1].lower() in NEXT_STEPS:
        close_with(desk, course, words[1].lower())
        return
    if course.state == "closed":
        _already_closed(desk, course)
        return
    desk.reply("clinician.close.ask", label=course.label, buttons=close_buttons(desk, course))


def close_buttons(desk: Desk, course: Course) -> Buttons:
    return [
        [{"text": desk.text(f"clinician.next_step.{step}"), "data": f"c:close:{course.id}:{step}"}]
        for step in NEXT_STEPS
    ]


def close_with(desk: Desk, course: Course, step: str) -> None:
    if course.state == "closed":
        _already_closed(desk, course)
        return
    was = course.state
    fire(course, "close")
    course.next_step_of_care = step
    course.flow = course.step = None
    course.due_at = None
    course.due_kind = None
    scratch = dict(course.scratch)
    scratch["closed_from"] = was
    course.scratch = scratch
    desk.audit("case_closed", course.label, next_step=step, from_state=was)
    if was != "completed":
        _as_user(desk, course, lambda turn: turn.say("common.closed"))
    desk.reply("clinician.close.done", label=course.label, next_step=desk.text(f"clinician.next_step.{step}"))


def _already_closed(desk: Desk, course: Course) -> None:
    step = course.next_step_of_care or "none"
    desk.reply("clinician.close.already", label=course.label, next_step=desk.text(f"clinician.next_step.{step}"))
