"""Raising an escalation signal: an alert for the clinicians, comfort for the user.

The alert and its outgoing messages are written in the same transaction as
the answer that raised it, so nothing can lose it between the two.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.engine.codes import audit
from bot.engine.outgoing import Buttons, Outbox
from bot.engine.team_chat import admin_chats, unreachable_since
from bot.engine.team_chat import note as team_chat_note
from bot.engine.turn import Turn
from bot.storage.models import Alert, Clinician, Course

log = logging.getLogger(__name__)

LEVEL_ORDER = {"urgent": 0, "high": 1, "notice": 2}
# Levels that are re-sent until a clinician acknowledges them (admins join after the second re-send).
RESENT_LEVELS = ("urgent", "high")
# The label of an alert from a chat where no code has been redeemed.
UNREGISTERED_LABEL = "-"


def raise_signal(
    turn: Turn, signal: str, evidence: str, *, message: str | None = None, hold_minutes: int | None = None
) -> Alert | None:
    """Record `signal` for the turn's course (or chat) and tell the people who must know.

    A new signal joins an open, unacknowledged alert of the same kind; once a
    clinician has acknowledged it, new evidence is a new alert. `message` is the
    whole text that raised it, kept for the clinicians' case view. With
    `hold_minutes` the person is being asked directly first: the alert is stored
    at once but held, and released on their answer or when the time runs out.
    """
    rule = turn.dialogs.escalation.signals.get(signal)
    if rule is None:
        return None
    held = hold_minutes is not None
    if not held:
        tell_user_crisis(turn, rule.tell_user)
    alert = _open_alert(turn, signal)
    entry = _message_entry(turn, message) if message else None
    if alert is not None:
        alert.evidence = [*alert.evidence, evidence]
        if entry is not None:
            alert.messages = [*alert.messages, entry]
        alert.updated_at = turn.now
        audit(turn.session, turn.now, "engine", "alert_updated", alert.label, alert_id=alert.id, signal=signal)
        if alert.held_until is not None and not held:
            release_alert(turn, alert)
        elif not held and LEVEL_ORDER.get(alert.level, 0) > LEVEL_ORDER.get(rule.level, 0):
            alert.level = rule.level  # a notice (a direct question answered "no") and now a clear signal
            release_alert(turn, alert)
        return alert
    course = turn.course
    resends = rule.level in RESENT_LEVELS
    alert = Alert(
        course_id=course.id if course else None,
        chat_id=None if course else turn.event.chat_id or None,
        label=course.label if course else UNREGISTERED_LABEL,
        signal=signal,
        level=rule.level,
        evidence=[evidence],
        messages=[entry] if entry is not None else [],
        week=course.week if course else 0,
        created_at=turn.now,
        updated_at=turn.now,
    )
    if held:
        alert.held_until = turn.now + timedelta(minutes=hold_minutes or 0)
        alert.next_resend_at = alert.held_until
    elif resends:
        alert.next_resend_at = turn.now + timedelta(minutes=turn.engine.config.alert_resend_minutes)
    turn.session.add(alert)
    turn.session.flush()
    audit(
        turn.session,
        turn.now,
        "engine",
        "alert_held" if held else "alert_raised",
        alert.label,
        alert_id=alert.id,
        signal=signal,
        level=rule.level,
    )
    if not held:
        notify_clinicians(turn.session, turn.out, turn, alert, "alert.message")
    return alert


def tell_user_crisis(turn: Turn, tell: bool = True) -> None:
    """The crisis contacts, once per turn, to a person (never on a timer)."""
    if tell and not turn.told_crisis and turn.event.kind not in ("timer", "blocked"):
        turn.told_crisis = True
        turn.say("safety.crisis")


def release_alert(turn: Turn, alert: Alert, key: str = "alert.message") -> None:
    """A held alert goes to the clinicians now, and is re-sent until acknowledged."""
    alert.held_until = None
    alert.updated_at = turn.now
    alert.next_resend_at = turn.now + timedelta(minutes=turn.engine.config.alert_resend_minutes)
    audit(
        turn.session,
        turn.now,
        "engine",
        "alert_raised",
        alert.label,
        alert_id=alert.id,
        signal=alert.signal,
        level=alert.level,
    )
    notify_clinicians(turn.session, turn.out, turn, alert, key)


def _message_entry(turn: Turn, message: str) -> dict[str, Any]:
    return {"text": message, "edited": turn.event.kind == "edited", "at": turn.now.isoformat()}


def _open_alert(turn: Turn, signal: str) -> Alert | None:
    """The open, unacknowledged alert of this kind for the course, or for the chat without one."""
    return open_alert(turn, signal)


def open_alert(turn: Turn, signal: str, *, held: bool = False) -> Alert | None:
    """The newest unacknowledged alert of `signal` for the turn's course (or chat without one);
    with `held`, only one held while the person is asked."""
    query = select(Alert).where(Alert.signal == signal, col(Alert.acknowledged_at).is_(None))
    if held:
        query = query.where(col(Alert.held_until).is_not(None))
    if turn.course is not None:
        query = query.where(Alert.course_id == turn.course.id)
    elif turn.event.chat_id:
        query = query.where(col(Alert.course_id).is_(None), Alert.chat_id == turn.event.chat_id)
    else:
        return None
    return turn.session.exec(query.order_by(col(Alert.id).desc())).first()


def alert_view(turn: Turn, alert: Alert) -> dict[str, Any]:
    tz = turn.engine.config.tz
    program = ""
    if alert.course_id is not None:
        course = turn.session.get(Course, alert.course_id)
        if course is not None and course.program in turn.dialogs.programs:
            program = turn.dialogs.programs[course.program].title[turn.engine.config.locale]
    return {
        "id": alert.id,
        "label": shown_label(turn, alert.label),
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
        "edited": any(m.get("edited") for m in alert.messages),  # the team sees the mark, never the text
    }


def shown_label(turn: Turn, label: str) -> str:
    """The case label, or plain words for a chat where no code is redeemed (never a name)."""
    if label == UNREGISTERED_LABEL:
        return turn.renderer.render(turn.engine.config.locale, "chain.no_code_label", {})
    return label


def alert_buttons(turn: Turn, alert: Alert) -> Buttons:
    locale = turn.engine.config.locale
    return [
        [
            {"text": turn.renderer.render(locale, "alert.ack_button", {}), "data": f"a:ack:{alert.id}"},
            {"text": turn.renderer.render(locale, "alert.case_button", {}), "data": f"a:case:{alert.id}"},
        ]
    ]


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
    if admins or unreachable_since(session, turn.engine.config) is not None:  # the team chat refuses the bot
        chats.extend(admin_chats(session))
    return list(dict.fromkeys(chats))


def notify_clinicians(
    session: Session, out: Outbox, turn: Turn, alert: Alert, key: str, *, admins: bool = False
) -> None:
    """Write the alert message to every clinician chat that should see it."""
    locale = turn.engine.config.locale
    text = turn.renderer.render(locale, key, {"alert": alert_view(turn, alert)})
    buttons = alert_buttons(turn, alert)
    chats = alert_recipients(session, turn, alert, admins=admins)
    if not chats:
        log.warning("alert %s has nobody to go to: set GUIDEBOT_CLINICIAN_CHAT_ID", alert.id)
    since = unreachable_since(session, turn.engine.config)
    if since is not None:
        log.error(
            "alert %s: the team chat (GUIDEBOT_CLINICIAN_CHAT_ID) has refused the bot since %s, so the "
            "alert goes to the admins' private chats as well; add the bot to the team chat again",
            alert.id,
            since,
        )
        text = f"{text}\n\n{team_chat_note(turn)}"
    for chat in chats:
        out.text(chat, text, buttons=buttons, alert_id=alert.id)
