"""The actions a flow's `do:` step can name, and what each does to the course.

Most are the bookkeeping of the weekly rhythm when a conversation ends: the
life-cycle transition, the counters, and when the next check-in is due. None of
them starts a flow or sends a question; the policy goes on with the flow after
each one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from bot.charts import score_chart
from bot.dialogs import contract, evidence
from bot.engine.alerts import raise_signal
from bot.engine.codes import audit
from bot.engine.facts import PART_LAG
from bot.engine.schedule import ANCHOR, schedule_booster, schedule_checkin, set_due
from bot.engine.slots import INTAKE_DONE, apply_new_slot
from bot.engine.turn import Turn
from bot.storage.models import Clinician
from state_machines.course import fire


def schedule_checkins(turn: Turn) -> None:
    """The weekday and time the person chose in the intake become the course's check-in slot."""
    course = turn.course
    assert course is not None
    answers = turn.facts().answers
    day = answers.get(contract.CHECKIN_DAY)
    if isinstance(day, (str, int)) and str(day).isdigit() and 0 <= int(day) <= 6:
        course.checkin_weekday = int(day)
    at = answers.get(contract.CHECKIN_TIME)
    if isinstance(at, str):
        course.checkin_time = at
    turn.forget_facts()


def next_checkin(turn: Turn, min_days: int) -> None:
    """The next check-in is due at the person's slot, at least `min_days` from now."""
    assert turn.course is not None
    schedule_checkin(turn.course, turn.now, min_days)
    turn.forget_facts()  # the texts say when it is


def finish_intake(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if fire(course, "finish_intake"):
        course.week = 2
        course.missed_weeks = 0
        turn.set_scratch(INTAKE_DONE, turn.now.isoformat())
        next_checkin(turn, turn.dialogs.schedule.first_checkin_min_days)
        audit(turn.session, turn.now, "user", "intake_finished", course.label)


def _count_checkin(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    turn.set_scratch("checkins_done", int(course.scratch.get("checkins_done", 0)) + 1)
    course.last_checkin_at = turn.now
    course.missed_weeks = 0
    course.reminders_sent = 0
    turn.set_scratch(ANCHOR, None)


def finish_checkin(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if fire(course, "finish_checkin"):
        if turn.facts().week_answers.get("homework_done") == "no":
            # The continuity path: the person stays on the part, with the smaller goal.
            turn.set_scratch(PART_LAG, int(course.scratch.get(PART_LAG, 0)) + 1)
        _count_checkin(turn)
        audit(turn.session, turn.now, "user", "checkin_finished", course.label, week=course.week)
        course.week += 1
        next_checkin(turn, turn.dialogs.schedule.min_days_between_checkins)
        feedback_due(turn)


def feedback_due(turn: Turn) -> None:
    """A finished check-in puts the case in the clinician's feedback queue (bot/engine/digest.py),
    and the person is told whether to expect a message, and roughly when."""
    course = turn.course
    assert course is not None
    course.feedback_due_at = turn.now
    query = select(Clinician.id).where(col(Clinician.active).is_(True))
    expect = course.clinician_id is not None or turn.session.exec(query).first() is not None
    turn.say("messages.expect_feedback", expect=expect)


def finish_closing(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if fire(course, "finish_closing"):
        _count_checkin(turn)
        course.finished_at = turn.now
        schedule_booster(course, turn.dialogs.schedule.booster_days)
        audit(turn.session, turn.now, "user", "course_finished", course.label)


def finish_dropout_eval(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    fire(course, "finish_dropout_eval")
    set_due(course, None, None)


def send_chart(turn: Turn) -> None:
    """The person's scores by week as a picture (also the /chart command)."""
    assert turn.course is not None
    texts = {key: turn.text(f"chart.{key}") for key in ("title", "week", "total")}
    image = score_chart(turn.dialogs, turn.facts().scores, turn.locale, texts)
    if image is None:
        turn.say("chart.none")
        return
    turn.out.photo(turn.chat_id, image, turn.text("chart.caption"), course_id=turn.course.id)


def request_contact(turn: Turn) -> None:
    """The person asks for a human (also the /contact command): the clinicians are told."""
    raise_signal(turn, contract.ASKS_FOR_PERSON, evidence.contact_requested())
    turn.say("safety.contact_requested")


def finish_booster(turn: Turn) -> None:
    """The booster is done; the next one (if any) is already due (weekly._booster)."""
    course = turn.course
    assert course is not None
    audit(turn.session, turn.now, "user", "booster_finished", course.label, booster=course.scratch.get("boosters_done"))


ACTIONS: dict[str, Callable[[Turn], None]] = {
    contract.SCHEDULE_CHECKINS: schedule_checkins,
    contract.FINISH_INTAKE: finish_intake,
    contract.FINISH_CHECKIN: finish_checkin,
    contract.FINISH_CLOSING: finish_closing,
    contract.FINISH_DROPOUT_EVAL: finish_dropout_eval,
    contract.SEND_CHART: send_chart,
    contract.REQUEST_CONTACT: request_contact,
    contract.APPLY_NEW_SLOT: apply_new_slot,
    contract.FINISH_BOOSTER: finish_booster,
}
