"""The course over the weeks: check-ins, reminders, dropout, pause and the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.dialogs.model import Instrument
from bot.engine import flows
from bot.engine.alerts import notify_clinicians, raise_signal, release_alert
from bot.engine.codes import audit
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
    return turn.renderer.render(turn.locale, "format.when", {
        "weekday": turn.renderer.render(turn.locale, f"weekday.{local.weekday()}", {}),
        "day": local.day,
        "month": turn.renderer.render(turn.locale, f"month.{local.month}", {}),
        "time": local.strftime("%H:%M"),
    })


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
    course = turn.session.exec(
        select(Course).where(Course.id == event.course_id).with_for_update()
    ).first()
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


def check_scores(turn: Turn, instrument: Instrument, total: int) -> None:
    course = turn.course
    assert course is not None
    rules = turn.dialogs.escalation.signals
    severe = rules["severe_score"].thresholds.get(instrument.id) if "severe_score" in rules else None
    if severe is not None and total >= severe:
        raise_signal(turn, "severe_score", f"{instrument.name} = {total}")
    rise = rules["deterioration"].thresholds.get(instrument.id) if "deterioration" in rules else None
    if rise is None or course.week <= 1:
        return
    baseline = turn.session.exec(
        select(Score).where(Score.course_id == course.id, Score.instrument == instrument.id, Score.week == 1)
    ).first()
    if baseline is not None and baseline.total is not None and total - baseline.total >= rise:
        raise_signal(turn, "deterioration", f"{instrument.name} {baseline.total} → {total}")


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
    answers = turn.facts().answers
    turn.say("safetyplan.show" if answers.get("warning_signs") else "safetyplan.none")


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
    audit(turn.session, turn.now, "engine", "alert_resent", alert.label, alert_id=alert.id,
          count=alert.resend_count)
