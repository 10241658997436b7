"""/alerts, /ack and the alert buttons.

Acknowledging records who and when, stops the re-sends, takes the buttons off
every delivered copy and tells everyone who got the alert. An alert kept after
its person erased their data (/delete) is erased once acknowledged.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.clinicians.caseload import open_alerts
from bot.clinicians.desk import Desk
from bot.engine.alerts import alert_buttons, alert_recipients, alert_view
from bot.engine.personal_data import finish_erasure
from bot.storage.models import Alert, OutboxItem

# /alerts lists at most this many, one message each with its buttons.
MAX_LISTED = 20


def list_alerts(desk: Desk) -> None:
    alerts = open_alerts(desk.session)
    desk.audit("alerts_viewed", None, count=len(alerts))
    if not alerts:
        desk.reply("clinician.alerts.none")
        return
    desk.reply("clinician.alerts.header", count=len(alerts), shown=min(len(alerts), MAX_LISTED))
    for alert in alerts[:MAX_LISTED]:
        text = desk.text("clinician.alerts.item", alert=alert_view(desk.turn, alert))
        desk.turn.out.text(desk.chat_id, text, buttons=alert_buttons(desk.turn, alert), alert_id=alert.id)


def parse_alert_id(text: str) -> int | None:
    cleaned = text.strip().lstrip("#")
    return int(cleaned) if cleaned.isdigit() and len(cleaned) < 12 else None


def acknowledge(desk: Desk, alert_id: int) -> tuple[Alert | None, bool]:
    """(the alert or None, whether this call acknowledged it)."""
    alert = desk.session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()).first()
    if alert is None or alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at = desk.now
    alert.acknowledged_by = desk.clinician.id
    alert.next_resend_at = None
    minutes = round((desk.now - alert.created_at).total_seconds() / 60)
    desk.audit(
        "alert_acknowledged", alert.label, alert_id=alert.id, signal=alert.signal, level=alert.level, minutes=minutes
    )
    _clear_copies(desk, alert)
    text = desk.text("alert.acknowledged", alert=alert_view(desk.turn, alert), by=desk.clinician.name)
    chats = alert_recipients(desk.turn, alert, admins=alert.admins_notified)
    for chat in dict.fromkeys([*chats, desk.chat_id]):
        desk.turn.out.text(chat, text)
    finish_erasure(desk.session, desk.now, alert, desk.turn.config.clinician_chat_id)  # kept after /delete
    return alert, True


def _clear_copies(desk: Desk, alert: Alert) -> None:
    """Take the buttons off every delivered copy of the alert, and the one just pressed."""
    chosen = desk.text("clinician.ack.chosen", by=desk.clinician.name)
    copies = desk.session.exec(
        select(OutboxItem).where(OutboxItem.alert_id == alert.id, col(OutboxItem.message_id).is_not(None))
    ).all()
    targets = {(c.chat_id, c.message_id) for c in copies if c.message_id is not None}
    event = desk.turn.event
    if event.kind == "button" and event.message_id is not None:
        targets.add((event.chat_id, event.message_id))
    for chat_id, message_id in sorted(targets):
        desk.turn.out.clear_buttons(chat_id, message_id, chosen)


def ack_command(desk: Desk, args: str) -> None:
    alert_id = parse_alert_id(args)
    if alert_id is None:
        desk.reply("clinician.ack.usage")
        return
    alert, done = acknowledge(desk, alert_id)
    if alert is None:
        desk.reply("clinician.ack.not_found", id=alert_id)
    elif not done:
        desk.reply("clinician.ack.already", alert=alert_view(desk.turn, alert))


def ack_button(desk: Desk, alert_id: int) -> str:
    """Acknowledge from a button; returns the short notice for the button answer."""
    alert, done = acknowledge(desk, alert_id)
    if alert is None:
        return desk.text("common.stale_button")
    if done:
        return desk.text("clinician.ack.chosen", by=desk.clinician.name)
    _clear_copies(desk, alert)
    return desk.text("clinician.ack.already", alert=alert_view(desk.turn, alert))
