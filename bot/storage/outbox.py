"""Taking a chat's queued messages, for channels that deliver in-process (the terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from bot.storage.models import OutboxItem


def take_unsent(session: Session, chat_ids: Sequence[int], kinds: Sequence[str] | None = None) -> list[OutboxItem]:
    """The chats' undelivered rows in order (optionally of some kinds only), marked delivered."""
    query = select(OutboxItem).where(col(OutboxItem.chat_id).in_(chat_ids), col(OutboxItem.sent_at).is_(None))
    if kinds is not None:
        query = query.where(col(OutboxItem.kind).in_(kinds))
    rows = list(session.exec(query.order_by(col(OutboxItem.id))).all())
    now = datetime.now(UTC)
    for row in rows:
        row.sent_at = now
    return rows
