"""A participant's commands: /checkin, /schedule, /pause, /resume, /plan, /safetyplan, /chart, /contact,
/mydata, /delete, /language; and the reply when nothing is being asked.

Clinicians' /pause, /resume and /checkin with a case label run the same functions
(`bot/clinicians/care.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import personal_data, policy, rhythm
from bot.engine.actions import request_contact, send_chart
from bot.engine.codes import audit
from bot.engine.safety_plan import FLOW as SAFETY_PLAN_FLOW
from bot.engine.safety_plan import has_plan
from bot.engine.schedule import schedule_checkin, start_reminders
from bot.engine.turn import Turn
from bot.engine.weekly import begin_week
from state_machines.course import fire


def hold_while_paused(turn: Turn) -> None:
    """The course is paused, also in the middle of a conversation: an answer or a button changes
    nothing, and the person hears how to go on (/resume goes on where it was)."""
    event = turn.event
    if event.kind == "button" and event.callback_id:
        turn.out.answer_callback(event.chat_id, event.callback_id, turn.text("pause.hold_button"))
    turn.say("pause.hold")


def idle_reply(turn: Turn) -> None:
    """Repeat the question the course waits for, or say where the course stands."""
    course = turn.course
    assert course is not None
    if course.state == "paused":
        hold_while_paused(turn)
        return
    if turn.step() is not None:
        policy.reask(turn)
        return
    key = {
        "paused": "common.paused",
        "completed": "common.completed",
        "closed": "common.closed",
        "dropped_out": "common.dropped_out",
    }.get(course.state, "common.waiting")
    turn.say(key)


def checkin_now(turn: Turn) -> None:
    """/checkin: the next check-in now, once the schedule's gap since the last one has passed."""
    _checkin(turn, gated=True)


def open_checkin(turn: Turn) -> None:
    """A clinician's /checkin for a case: the check-in opens now, gap or not."""
    _checkin(turn, gated=False)


def _checkin(turn: Turn, *, gated: bool) -> None:
    course = turn.course
    assert course is not None
    if course.state == "paused":
        hold_while_paused(turn)
    elif course.state == "active":
        if gated and rhythm.too_early(turn):
            policy.reask(turn)  # a conversation in progress (the safety plan) goes on where it was
            return
        begin_week(turn)
    elif course.state in ("dropped_out", "dropout_eval") and fire(course, "reengage"):
        course.flow = course.step = None
        course.missed_weeks = 0
        begin_week(turn)
    elif turn.step() is not None:
        policy.reask(turn)
    else:
        idle_reply(turn)


def pause(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if course.state == "paused":
        turn.say("common.already_paused")
        return
    state = course.state
    course.paused_from = state
    if not fire(course, "pause"):
        course.paused_from = None
        turn.say("common.not_now")
        return
    audit(turn.session, turn.now, "user", "paused", course.label)
    turn.say("common.paused")


def resume(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if course.state == "paused":
        fire(course, "resume")
        course.paused_from = None
        if course.due_at is not None and course.due_at <= turn.now:
            if course.state == "active":
                _checkin_tomorrow(turn)
            else:
                start_reminders(course, turn.now, turn.dialogs.schedule.reminder_hours)
    elif course.state in ("dropped_out", "dropout_eval") and fire(course, "reengage"):
        course.flow = course.step = None
        course.missed_weeks = 0
        _checkin_tomorrow(turn)
    else:
        turn.say("common.not_paused")
        return
    audit(turn.session, turn.now, "user", "resumed", course.label)
    turn.say("common.resumed")
    policy.reask(turn)


def _checkin_tomorrow(turn: Turn) -> None:
    assert turn.course is not None
    schedule_checkin(turn.course, turn.now, 1)
    turn.forget_facts()


def show_plan(turn: Turn) -> None:
    turn.say("plan.show")


def show_safety_plan(turn: Turn) -> None:
    """/safetyplan: show the plan and offer to change it, or offer to make one (the safetyplan flow).

    A course has one conversation at a time: in the middle of another one, the plan (or that
    there is none yet) is shown, and the conversation goes on where it was.
    """
    course = turn.course
    assert course is not None
    if turn.step() is not None and course.flow != SAFETY_PLAN_FLOW:
        if has_plan(turn.facts().answers):
            turn.say("safetyplan.show")
            turn.say("safetyplan.update_later")
        else:
            turn.say("safetyplan.none")
        policy.reask(turn)
        return
    policy.start_flow(turn, SAFETY_PLAN_FLOW)


def language_prompt(turn: Turn) -> None:
    buttons = [[{"text": locale.name, "data": f"l:{code}"}] for code, locale in turn.dialogs.locales.items()]
    turn.say("common.language_prompt", buttons=buttons)


def set_language(turn: Turn, locale: str) -> None:
    """A language button: the course goes on in that language."""
    if locale not in turn.dialogs.locales or turn.course is None:
        turn.stale_button()
        return
    turn.ack_button()
    turn.course.locale = locale
    turn.forget_facts()
    turn.say("common.language_set")
    policy.reask(turn)


# Commands that need a course; /start, /help, /language and /contact work without one (core.py).
COMMANDS: dict[str, Callable[[Turn], None]] = {
    "checkin": checkin_now,
    "schedule": rhythm.reschedule,
    "pause": pause,
    "resume": resume,
    "plan": show_plan,
    "safetyplan": show_safety_plan,
    "chart": send_chart,
    "contact": request_contact,
    "mydata": personal_data.export,
    "delete": personal_data.ask_delete,
}
