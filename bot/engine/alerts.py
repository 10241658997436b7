"""Raising an escalation signal: an alert for the clinicians, comfort for the user.

The alert and its outgoing messages are written in the same transaction as
the answer that raised it, so nothing can lose it between the two.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.engine.codes import audit
from bot.engine.outgoing import Buttons, Outbox
from bot.engine.turn import Turn
from bot.storage.models import Alert, Clinician, Course

log = logging.getLogger(__name__)

LEVEL_ORDER = {"urgent": 0, "high": 1, "notice": 2}


def raise_signal(turn: Turn, signal: str, evidence: str) -> Alert | None:
    """Record `signal` for the turn's course and tell the people who must know."""
    rule = turn.dialogs.escalation.signals.get(signal)
    if rule is None:
        return None
    if rule.tell_user and not turn.told_crisis and turn.event.kind not in ("timer", "blocked"):
        turn.told_crisis = True
        turn.say("safety.crisis")
    course = turn.course
    window = timedelta(hours=turn.dialogs.escalation.dedupe_hours)
    alert = _open_alert(turn.session, course, signal, turn.now - window) if course else None
    if alert is not None:
        alert.evidence = [*alert.evidence, evidence]
        alert.updated_at = turn.now
        audit(turn.session, turn.now, "engine", "alert_updated", alert.label, alert_id=alert.id, signal=signal)
        return alert
    alert = Alert(
        course_id=course.id if course else None,
        label=course.label if course else "-",
        signal=signal,
        level=rule.level,
        evidence=[evidence],
        week=course.week if course else 0,
        created_at=turn.now,
        updated_at=turn.now,
        next_resend_at=turn.now + timedelta(minutes=turn.engine.config.alert_resend_minutes)
        if rule.level == "urgent"
        else None,
    )
    turn.session.add(alert)
    turn.session.flush()
    audit(turn.session, turn.now, "engine", "alert_raised", alert.label, alert_id=alert.id, signal=signal,
          level=rule.level)
    notify_clinicians(turn.session, turn.out, turn, alert, "alert.message")
    return alert


def _open_alert(session: Session, course: Course, signal: str, since: datetime) -> Alert | None:
    query = (
        select(Alert)
        .where(Alert.course_id == course.id, Alert.signal == signal, col(Alert.created_at) >= since)
        .order_by(col(Alert.id).desc())
    )
    return session.exec(query).first()


def alert_view(turn: Turn, alert: Alert) -> dict[str, Any]:
    tz = turn.engine.config.tz
    program = ""
    if alert.course_id is not None:
        course = turn.session.get(Course, alert.course_id)
        if course is not None and course.program in turn.dialogs.programs:
            program = turn.dialogs.programs[course.program].title[turn.engine.config.locale]
    return {
        "id": alert.id,
        "label": alert.label,
        "signal": alert.signal,
        "signal_name": turn.renderer.render(turn.engine.config.locale, f"signal.{alert.signal}", {})
        if turn.renderer.has(turn.engine.config.locale, f"signal.{alert.signal}")
        else alert.signal,
        "level": alert.level,
        "level_name": turn.renderer.render(turn.engine.config.locale, f"clinician.level.{alert.level}", {}),
        "evidence": list(alert.evidence),
        "week": alert.week,
        "time": alert.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "resend_count": alert.resend_count,
        "program": program,
    }


def alert_buttons(turn: Turn, alert: Alert) -> Buttons:
    locale = turn.engine.config.locale
    return [[
        {"text": turn.renderer.render(locale, "alert.ack_button", {}), "data": f"a:ack:{alert.id}"},
        {"text": turn.renderer.render(locale, "alert.case_button", {}), "data": f"a:case:{alert.id}"},
    ]]


def alert_recipients(session: Session, turn: Turn, alert: Alert, *, admins: bool = False) -> list[int]:
    chats: list[int] = []
    if turn.engine.config.clinician_chat_id is not None:
        chats.append(turn.engine.config.clinician_chat_id)
    if alert.course_id is not None:
        course = session.get(Course, alert.course_id)
        if course is not None and course.clinician_id is not None:
            owner = session.get(Clinician, course.clinician_id)
            if owner is not None and owner.active:
                chats.append(owner.telegram_id)
    if admins:
        query = select(Clinician).where(Clinician.is_admin == True, Clinician.active == True)  # noqa: E712
        chats.extend(c.telegram_id for c in session.exec(query).all())
    return list(dict.fromkeys(chats))


def notify_clinicians(session: Session, out: Outbox, turn: Turn, alert: Alert, key: str,
                      *, admins: bool = False) -> None:
    """Write the alert message to every clinician chat that should see it."""
    locale = turn.engine.config.locale
    text = turn.renderer.render(locale, key, {"alert": alert_view(turn, alert)})
    buttons = alert_buttons(turn, alert)
    chats = alert_recipients(session, turn, alert, admins=admins)
    if not chats:
        log.warning("alert %s has nobody to go to: set GUIDEBOT_CLINICIAN_CHAT_ID", alert.id)
    for chat in chats:
        out.text(chat, text, buttons=buttons, alert_id=alert.id)
