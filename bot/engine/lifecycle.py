"""The course over the weeks: check-ins, reminders, dropout, pause and the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.dialogs.model import Instrument
from bot.engine import flows
from bot.engine.alerts import notify_clinicians, raise_signal, release_alert
from bot.engine.codes import audit
from bot.engine.safety_plan import FLOW as SAFETY_PLAN_FLOW
from bot.engine.safety_plan import has_plan
from bot.engine.schedule import next_slot
from bot.engine.turn import Turn
from bot.storage.models import Alert, Course, Score
from state_machines.course import RUNNING, fire

WEEK = timedelta(days=7)


# -- time --------------------------------------------------------------------


def _tz(course: Course) -> ZoneInfo:
    return ZoneInfo(course.timezone)


def format_when(turn: Turn, when: datetime) -> str:
    assert turn.course is not None
    local = when.astimezone(_tz(turn.course))
    return turn.renderer.render(
        turn.locale,
        "format.when",
        {
            "weekday": turn.renderer.render(turn.locale, f"weekday.{local.weekday()}", {}),
            "day": local.day,
            "month": turn.renderer.render(turn.locale, f"month.{local.month}", {}),
            "time": local.strftime("%H:%M"),
        },
    )


def next_checkin_text(turn: Turn) -> str | None:
    course = turn.course
    if course is None or course.due_at is None or course.due_kind != "checkin":
        return None
    return format_when(turn, course.due_at)


def _set_due(course: Course, when: datetime | None, kind: str | None) -> None:
    course.due_at = when
    course.due_kind = kind if when is not None else None


def _schedule_next(turn: Turn, min_days: int) -> None:
    course = turn.course
    assert course is not None
    earliest = turn.now + timedelta(days=min_days)
    if course.checkin_weekday is None or course.checkin_time is None:
        when = earliest
    else:
        when = next_slot(earliest, course.checkin_weekday, course.checkin_time, _tz(course))
    _set_due(course, when, "checkin")
    turn.forget_facts()


def _start_reminders(turn: Turn, anchor: datetime) -> None:
    course = turn.course
    assert course is not None
    hours = turn.dialogs.schedule.reminder_hours
    course.reminders_sent = 0
    turn.set_scratch("due_anchor", anchor.isoformat())
    if hours:
        _set_due(course, anchor + timedelta(hours=hours[0]), "reminder")
    else:
        _set_due(course, anchor + WEEK, "missed")


def _anchor(turn: Turn) -> datetime:
    assert turn.course is not None
    raw = turn.course.scratch.get("due_anchor")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else turn.now


# -- the weekly rhythm -------------------------------------------------------


def begin_week(turn: Turn) -> None:
    """Open this week's conversation: a check-in, or the closing in the last week."""
    course = turn.course
    assert course is not None
    schedule = turn.dialogs.schedule
    week = schedule.weeks.get(course.week) or schedule.weeks[schedule.last_week]
    trigger = "start_closing" if course.week >= schedule.last_week else "start_checkin"
    if not fire(course, trigger):
        _set_due(course, None, None)
        return
    _start_reminders(turn, turn.now)
    flows.start_flow(turn, week.flow)


def on_timer(turn: Turn) -> None:
    event = turn.event
    if event.data.startswith("alert:"):
        _alert_timer(turn, int(event.data.removeprefix("alert:")))
        return
    course = turn.session.exec(select(Course).where(Course.id == event.course_id).with_for_update()).first()
    if course is None or course.due_at is None or course.due_at > turn.now or course.state not in RUNNING:
        return
    turn.course = course
    kind = course.due_kind
    if kind == "checkin":
        begin_week(turn)
    elif kind == "reminder":
        _remind(turn)
    elif kind == "missed":
        _missed(turn)
    else:
        _set_due(course, None, None)


def _remind(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    hours = turn.dialogs.schedule.reminder_hours
    n = course.reminders_sent + 1
    if turn.step() is None or n > len(hours):
        _set_due(course, _anchor(turn) + WEEK, "missed")
        return
    turn.say("reminder.text", n=n, hours=hours[n - 1])
    flows.reask(turn)
    course.reminders_sent = n
    if n < len(hours):
        _set_due(course, _anchor(turn) + timedelta(hours=hours[n]), "reminder")
    else:
        _set_due(course, _anchor(turn) + WEEK, "missed")


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
    raise_signal(turn, "missed_checkin", f"check-in of week {course.week} not done")
    turn.say("missed.week")
    week = schedule.weeks.get(course.week) or schedule.weeks[schedule.last_week]
    _start_reminders(turn, turn.now)
    flows.start_flow(turn, week.flow)


def drop_out(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    fire(course, "drop_out")
    course.flow = None
    course.step = None
    _set_due(course, None, None)
    audit(turn.session, turn.now, "engine", "dropped_out", course.label, week=course.week)
    raise_signal(turn, "disengagement", f"missed check-ins: {course.missed_weeks}")
    turn.say("dropout.notice")
    if fire(course, "start_dropout_eval"):
        flows.start_flow(turn, "dropout")


# -- actions named in the flows ----------------------------------------------


def _schedule_checkins(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    answers = turn.facts().answers
    day = answers.get("checkin_day")
    if isinstance(day, (str, int)) and str(day).isdigit() and 0 <= int(day) <= 6:
        course.checkin_weekday = int(day)
    at = answers.get("checkin_time")
    if isinstance(at, str):
        course.checkin_time = at
    turn.forget_facts()


def _finish_intake(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if fire(course, "finish_intake"):
        course.week = 2
        course.missed_weeks = 0
        _schedule_next(turn, turn.dialogs.schedule.first_checkin_min_days)
        audit(turn.session, turn.now, "user", "intake_finished", course.label)


def _count_checkin(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    turn.set_scratch("checkins_done", int(course.scratch.get("checkins_done", 0)) + 1)
    course.last_checkin_at = turn.now
    course.missed_weeks = 0
    course.reminders_sent = 0
    turn.set_scratch("due_anchor", None)


def _finish_checkin(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if fire(course, "finish_checkin"):
        _count_checkin(turn)
        audit(turn.session, turn.now, "user", "checkin_finished", course.label, week=course.week)
        course.week += 1
        _schedule_next(turn, turn.dialogs.schedule.min_days_between_checkins)


def _finish_closing(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if fire(course, "finish_closing"):
        _count_checkin(turn)
        course.finished_at = turn.now
        _set_due(course, None, None)
        audit(turn.session, turn.now, "user", "course_finished", course.label)


def _finish_dropout_eval(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    fire(course, "finish_dropout_eval")
    _set_due(course, None, None)


def send_chart(turn: Turn) -> None:
    maker = turn.engine.chart_maker
    image = maker(turn) if maker is not None else None
    if image is None:
        turn.say("chart.none")
        return
    assert turn.course is not None
    turn.out.photo(turn.chat_id, image, turn.text("chart.caption"), course_id=turn.course.id)


def request_contact(turn: Turn) -> None:
    raise_signal(turn, "asks_for_person", "contact requested")
    turn.say("safety.contact_requested")


ACTIONS: dict[str, Callable[[Turn], None]] = {
    "schedule_checkins": _schedule_checkins,
    "finish_intake": _finish_intake,
    "finish_checkin": _finish_checkin,
    "finish_closing": _finish_closing,
    "finish_dropout_eval": _finish_dropout_eval,
    "send_chart": send_chart,
    "request_contact": request_contact,
}


# -- scores ------------------------------------------------------------------


# Signals a score raises; the person hears of the first new one in a turn, in plain words.
SCORE_SIGNALS = {
    "needs_assessment": "followup.needs_assessment_score",
    "severe_score": "followup.clinician_told",
    "deterioration": "followup.clinician_told",
}


def _threshold(turn: Turn, signal: str, instrument: Instrument) -> int | None:
    rule = turn.dialogs.escalation.signals.get(signal)
    return rule.thresholds.get(instrument.id) if rule is not None else None


def _score_signal(turn: Turn, signal: str, evidence: str) -> None:
    """Raise a score signal. A new alert is also told to the person, once per turn: no crisis
    contacts (those come with item 9 or risk words), but what happens next."""
    course = turn.course
    assert course is not None
    alert = raise_signal(turn, signal, evidence)
    if alert is None or len(alert.evidence) > 1 or turn.told_crisis:
        return  # joined an open alert, so they were told; or the crisis message said it
    earlier = turn.session.exec(
        select(Alert.id).where(
            Alert.course_id == course.id,
            Alert.id != alert.id,
            Alert.created_at == turn.now,
            col(Alert.signal).in_(list(SCORE_SIGNALS)),
        )
    ).first()
    if earlier is None:
        turn.say(SCORE_SIGNALS[signal])


def check_scores(turn: Turn, instrument: Instrument, total: int) -> None:
    """A severe baseline needs a clinician's assessment (loshjelp); later, severe scores and a
    reliable rise from the baseline are signals too."""
    course = turn.course
    assert course is not None
    if course.week <= 1:
        limit = _threshold(turn, "needs_assessment", instrument)
        if limit is not None and total >= limit:
            _score_signal(turn, "needs_assessment", f"{instrument.name} = {total}")
        return
    severe = _threshold(turn, "severe_score", instrument)
    if severe is not None and total >= severe:
        _score_signal(turn, "severe_score", f"{instrument.name} = {total}")
    rise = _threshold(turn, "deterioration", instrument)
    if rise is None:
        return
    baseline = turn.session.exec(
        select(Score).where(Score.course_id == course.id, Score.instrument == instrument.id, Score.week == 1)
    ).first()
    if baseline is not None and baseline.total is not None and total - baseline.total >= rise:
        _score_signal(turn, "deterioration", f"{instrument.name} {baseline.total} → {total}")


# -- commands ----------------------------------------------------------------


def idle_reply(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if turn.step() is not None:
        flows.reask(turn)
        return
    key = {
        "paused": "common.paused",
        "completed": "common.completed",
        "closed": "common.closed",
        "dropped_out": "common.dropped_out",
    }.get(course.state, "common.waiting")
    turn.say(key)


def checkin_now(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    if course.state == "active":
        begin_week(turn)
    elif course.state in ("dropped_out", "dropout_eval") and fire(course, "reengage"):
        course.flow = course.step = None
        course.missed_weeks = 0
        begin_week(turn)
    elif turn.step() is not None:
        flows.reask(turn)
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
                _schedule_next(turn, 1)
            else:
                _start_reminders(turn, turn.now)
    elif course.state in ("dropped_out", "dropout_eval") and fire(course, "reengage"):
        course.flow = course.step = None
        course.missed_weeks = 0
        _schedule_next(turn, 1)
    else:
        turn.say("common.not_paused")
        return
    audit(turn.session, turn.now, "user", "resumed", course.label)
    turn.say("common.resumed")
    flows.reask(turn)


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
        flows.reask(turn)
        return
    flows.start_flow(turn, SAFETY_PLAN_FLOW)


def _personal(name: str) -> Callable[[Turn], None]:
    def run(turn: Turn) -> None:
        from bot.engine import personal_data

        getattr(personal_data, name)(turn)

    return run


COMMANDS: dict[str, Callable[[Turn], None]] = {
    "checkin": checkin_now,
    "pause": pause,
    "resume": resume,
    "plan": show_plan,
    "safetyplan": show_safety_plan,
    "chart": send_chart,
    "contact": request_contact,
    "mydata": _personal("export"),
    "delete": _personal("ask_delete"),
}


def on_blocked(turn: Turn) -> None:
    """Telegram said the user blocked the bot: stop sending, tell the clinicians."""
    if turn.event.chat_id == turn.engine.config.clinician_chat_id:
        from bot.engine.team_chat import on_unreachable

        on_unreachable(turn)  # the team chat refuses the bot: the admins take the alerts
        return
    course = turn.engine.course_for_chat(turn.session, turn.event.chat_id)
    if course is None or course.unreachable:
        return
    turn.course = course
    course.unreachable = True
    audit(turn.session, turn.now, "engine", "user_unreachable", course.label)
    raise_signal(turn, "unreachable", "blocked the bot")


# -- alerts nobody has acknowledged ------------------------------------------


def _alert_timer(turn: Turn, alert_id: int) -> None:
    alert = turn.session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()).first()
    if alert is None or alert.acknowledged_at is not None or alert.next_resend_at is None:
        return
    if alert.next_resend_at > turn.now:
        return
    if alert.held_until is not None:
        release_alert(turn, alert, "alert.unanswered")  # no answer to the direct question
        return
    alert.resend_count += 1
    alert.next_resend_at = turn.now + timedelta(minutes=turn.engine.config.alert_resend_minutes)
    to_admins = alert.resend_count >= 2
    key = "alert.admins" if to_admins and not alert.admins_notified else "alert.resend"
    notify_clinicians(turn.session, turn.out, turn, alert, key, admins=to_admins)
    if to_admins and not alert.admins_notified:
        alert.admins_notified = True
        audit(turn.session, turn.now, "engine", "alert_to_admins", alert.label, alert_id=alert.id)
    audit(turn.session, turn.now, "engine", "alert_resent", alert.label, alert_id=alert.id, count=alert.resend_count)
