"""The team chat (GUIDEBOT_CLINICIAN_CHAT_ID) and whether the bot can still post in it.

When Telegram refuses the bot in the team chat (removed, blocked, chat gone), a
durable mark is stored: from then on every alert also goes to each admin
clinician's private chat, and alert copies the team chat refused are sent to the
admins at once. A later successful message to the team chat clears the mark.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.engine.codes import audit
from bot.engine.turn import Turn
from bot.storage.models import Alert, Clinician, OutboxItem, ServiceState

log = logging.getLogger(__name__)

KEY = "team_chat_unreachable"
REFUSED = "blocked"  # the sender's reason on a team-chat row Telegram refused
COPIED = "blocked; copied to the admins"


def unreachable_since(session: Session, config: Settings) -> str | None:
    """When the team chat stopped taking the bot's messages (ISO time), or None if it is fine."""
    chat = config.clinician_chat_id
    if chat is None:
        return None
    row = session.get(ServiceState, KEY)
    if row is None or row.value.get("chat_id") != chat:
        return None
    return str(row.value.get("since") or "")


def mark_reachable(session: Session, chat_id: int, now: datetime) -> bool:
    """The team chat took a message: clear the mark. True if there was one."""
    row = session.get(ServiceState, KEY)
    if row is None or row.value.get("chat_id") != chat_id:
        return False
    session.delete(row)
    audit(session, now, "engine", "team_chat_reachable", None)
    log.info("the team chat takes the bot's messages again; alerts go there as before")
    return True


def admin_chats(session: Session) -> list[int]:
    query = select(Clinician.telegram_id).where(Clinician.is_admin == True, Clinician.active == True)  # noqa: E712
    return list(session.exec(query).all())


def on_unreachable(turn: Turn) -> None:
    """Telegram refused a message to the team chat: mark it, and copy the refused alerts to the admins."""
    session, chat = turn.session, turn.event.chat_id
    row = session.get(ServiceState, KEY)
    if row is None or row.value.get("chat_id") != chat:
        if row is not None:
            session.delete(row)
            session.flush()
        session.add(ServiceState(key=KEY, value={"chat_id": chat, "since": turn.now.isoformat()}, updated_at=turn.now))
        audit(session, turn.now, "engine", "team_chat_unreachable", None)
    admins = admin_chats(session)
    refused = session.exec(
        select(OutboxItem)
        .where(OutboxItem.chat_id == chat, OutboxItem.failed == REFUSED, col(OutboxItem.alert_id).is_not(None))
        .order_by(col(OutboxItem.id))
    ).all()
    latest: dict[int, OutboxItem] = {}
    for item in refused:
        item.failed = COPIED
        if item.alert_id is not None:
            latest[item.alert_id] = item
    copied = 0
    for alert_id, item in latest.items():
        alert = session.get(Alert, alert_id)
        if alert is None or alert.acknowledged_at is not None:
            continue
        have = set(
            session.exec(
                select(OutboxItem.chat_id).where(OutboxItem.alert_id == alert_id, col(OutboxItem.chat_id).in_(admins))
            ).all()
        )
        for admin in admins:
            if admin not in have and item.kind == "text":
                turn.out.text(
                    admin,
                    _with_note(turn, str(item.payload.get("text") or "")),
                    buttons=item.payload.get("buttons"),
                    alert_id=alert_id,
                )
                copied += 1
    log.error(
        "the team chat (GUIDEBOT_CLINICIAN_CHAT_ID) refuses the bot's messages: %s alert copies sent to "
        "%s admin(s) instead. Add the bot to the team chat again (with the right to send messages).",
        copied,
        len(admins),
    )
    if not admins:
        log.error("there is no active admin clinician to take the alerts while the team chat cannot be reached")


def note(turn: Turn) -> str:
    return turn.renderer.render(turn.config.locale, "chain.team_chat_unreachable", {})


def _with_note(turn: Turn, text: str) -> str:
    extra = note(turn)
    return text if extra in text else f"{text}\n\n{extra}"
