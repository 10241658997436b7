"""Alerts: raising an escalation signal, telling the clinicians, and re-sending until acknowledged.

The alert and its outgoing messages are written in the same transaction as
the answer that raised it, so nothing can lose it between the two. An urgent or
high alert is re-sent every `GUIDEBOT_ALERT_RESEND_MINUTES` until a clinician
acknowledges it; from the second re-send the admins get it too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.dialogs.evidence import Entry, render_all
from bot.engine.codes import audit
from bot.engine.cover import stand_in
from bot.engine.dates import service_time
from bot.engine.outgoing import Buttons
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
    turn: Turn, signal: str, evidence: Entry, *, message: str | None = None, hold_minutes: int | None = None
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
    alert = open_alert(turn, signal)
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
        alert.next_resend_at = turn.now + timedelta(minutes=turn.config.alert_resend_minutes)
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
        notify_clinicians(turn, alert, "alert.message")
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
    alert.next_resend_at = turn.now + timedelta(minutes=turn.config.alert_resend_minutes)
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
    notify_clinicians(turn, alert, key)


def _message_entry(turn: Turn, message: str) -> dict[str, Any]:
    return {"text": message, "edited": turn.event.kind == "edited", "at": turn.now.isoformat()}


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


class Evidence(list[str]):
    """An alert's evidence: a list for `{{ alert.evidence | join("; ") }}`, and "a; b" as `{{ alert.evidence }}`."""

    def __str__(self) -> str:
        return "; ".join(self)


def alert_view(turn: Turn, alert: Alert, *, private: bool = False) -> dict[str, Any]:
    """What a clinician text can show of an alert, in the service's language and time zone.

    `private` adds the whole messages that raised it, for a clinician's private chat only
    (never the team chat, which sees that a message was edited, never its text).
    """
    locale = turn.config.locale
    program = ""
    if alert.course_id is not None:
        course = turn.session.get(Course, alert.course_id)
        if course is not None and course.program in turn.dialogs.programs:
            program = turn.dialogs.programs[course.program].title[locale]
    signal_key = f"signal.{alert.signal}"
    signal_name = (
        turn.renderer.render(locale, signal_key, {}) if turn.renderer.has(locale, signal_key) else alert.signal
    )
    by = turn.session.get(Clinician, alert.acknowledged_by) if alert.acknowledged_by is not None else None
    view: dict[str, Any] = {
        "id": alert.id,
        "label": shown_label(turn, alert.label),
        "signal": alert.signal,
        "signal_name": signal_name,
        "name": signal_name,  # the clinician texts' name for it
        "level": alert.level,
        "level_name": turn.renderer.render(locale, f"clinician.level.{alert.level}", {}),
        "evidence": Evidence(render_all(turn.renderer, locale, alert.evidence)),
        "week": alert.week,
        "time": service_time(turn.config.tz, alert.created_at),
        "resend_count": alert.resend_count,
        "resends": alert.resend_count,  # the clinician texts' name for it
        "program": program,
        "edited": any(m.get("edited") for m in alert.messages),
        "acknowledged_by": by.name if by is not None else None,
        "acknowledged_at": service_time(turn.config.tz, alert.acknowledged_at),
        "erased": alert.erased_at is not None,  # kept after the person's /delete until acknowledged
    }
    if private:
        view["messages"] = [
            {"text": str(entry.get("text", "")), "edited": bool(entry.get("edited")), "time": _entry_time(turn, entry)}
            for entry in alert.messages
        ]
    return view


def _entry_time(turn: Turn, entry: dict[str, Any]) -> str | None:
    at = entry.get("at")
    if not isinstance(at, str):
        return None
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        return None
    return service_time(turn.config.tz, parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def shown_label(turn: Turn, label: str) -> str:
    """The case label, or plain words for a chat where no code is redeemed (never a name)."""
    if label == UNREGISTERED_LABEL:
        return turn.renderer.render(turn.config.locale, "chain.no_code_label", {})
    return label


def alert_buttons(turn: Turn, alert: Alert) -> Buttons:
    locale = turn.config.locale
    return [
        [
            {"text": turn.renderer.render(locale, "alert.ack_button", {}), "data": f"a:ack:{alert.id}"},
            {"text": turn.renderer.render(locale, "alert.case_button", {}), "data": f"a:case:{alert.id}"},
        ]
    ]


def alert_recipients(turn: Turn, alert: Alert, *, admins: bool = False) -> list[int]:
    """The team chat, the case's own clinician (or their cover while away), and the admins when asked
    for or when the team chat is gone."""
    session = turn.session
    chats: list[int] = []
    if turn.config.clinician_chat_id is not None:
        chats.append(turn.config.clinician_chat_id)
    if alert.course_id is not None:
        course = session.get(Course, alert.course_id)
        if course is not None and course.clinician_id is not None:
            owner = session.get(Clinician, course.clinician_id)
            if owner is not None and owner.active:
                chats.append(stand_in(session, owner, turn.now).telegram_id)  # or who covers while they are away
    if admins or unreachable_since(session, turn.config) is not None:  # the team chat refuses the bot
        chats.extend(admin_chats(session))
    return list(dict.fromkeys(chats))


def notify_clinicians(turn: Turn, alert: Alert, key: str, *, admins: bool = False) -> None:
    """Write the alert message to every clinician chat that should see it."""
    locale = turn.config.locale
    text = turn.renderer.render(locale, key, {"alert": alert_view(turn, alert)})
    buttons = alert_buttons(turn, alert)
    chats = alert_recipients(turn, alert, admins=admins)
    if not chats:
        log.warning("alert %s has nobody to go to: set GUIDEBOT_CLINICIAN_CHAT_ID", alert.id)
    since = unreachable_since(turn.session, turn.config)
    if since is not None:
        log.error(
            "alert %s: the team chat (GUIDEBOT_CLINICIAN_CHAT_ID) has refused the bot since %s, so the "
            "alert goes to the admins' private chats as well; add the bot to the team chat again",
            alert.id,
            since,
        )
        text = f"{text}\n\n{team_chat_note(turn)}"
    for chat in chats:
        turn.out.text(chat, text, buttons=buttons, alert_id=alert.id)


# -- alerts nobody has acknowledged ------------------------------------------


def resend_due(turn: Turn, alert_id: int) -> None:
    """The scheduler found the alert due: release a held one, or send it again (to the admins as well
    from the second re-send)."""
    alert = turn.session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()).first()
    if alert is None or alert.acknowledged_at is not None or alert.next_resend_at is None:
        return
    if alert.next_resend_at > turn.now:
        return
    if alert.held_until is not None:
        release_alert(turn, alert, "alert.unanswered")  # no answer to the direct question
        return
    alert.resend_count += 1
    alert.next_resend_at = turn.now + timedelta(minutes=turn.config.alert_resend_minutes)
    to_admins = alert.resend_count >= 2
    key = "alert.admins" if to_admins and not alert.admins_notified else "alert.resend"
    notify_clinicians(turn, alert, key, admins=to_admins)
    if to_admins and not alert.admins_notified:
        alert.admins_notified = True
        audit(turn.session, turn.now, "engine", "alert_to_admins", alert.label, alert_id=alert.id)
    audit(turn.session, turn.now, "engine", "alert_resent", alert.label, alert_id=alert.id, count=alert.resend_count)
