"""The outbox table as the sender sees it: what is due, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, update
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from bot.storage.models import Course, OutboxItem

BATCH = 500
SCAN_IDS = 5000  # ids a periodic scan reads at a time

_UNSENT = (col(OutboxItem.sent_at).is_(None), col(OutboxItem.failed).is_(None))


@dataclass(frozen=True)
class Pending:
    """A row to deliver; for a button choice, also the text of the message it belongs to."""

    row_id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    image: bytes | None
    original_text: str | None = None
    alert_id: int | None = None


@dataclass(frozen=True)
class Delivered:
    row_id: int
    message_id: int | None
    attempts: int


def load_due(session: Session, after_id: int, now: datetime) -> list[Pending]:
    """Rows due for delivery with an id above `after_id`, in id order (at most BATCH).

    Rows for a user who has blocked the bot (their course is unreachable) are set
    aside instead: nothing more is sent to them until they write again. Every row is
    due once committed; `now` is no longer read (sender.py still passes it).
    """
    del now
    set_aside_unreachable(session, after_id)
    return _pending(session, col(OutboxItem.id) > after_id, limit=BATCH)


def set_aside_unreachable(session: Session, after_id: int = 0) -> None:
    """Rows above `after_id` to a user who has blocked the bot are set aside, not sent."""
    blocked = exists().where(col(Course.chat_id) == col(OutboxItem.chat_id), col(Course.unreachable).is_(True))
    session.execute(
        update(OutboxItem).where(col(OutboxItem.id) > after_id, *_UNSENT, blocked).values(failed="unreachable")
    )


def due_ids(session: Session, after_id: int, limit: int = SCAN_IDS) -> list[int]:
    """The ids of unsent rows above `after_id`, in order, at most `limit`: the periodic scan
    reads ids alone (an index-only read of ix_outbox_pending where the database can), and
    loads whole rows only for the few it does not have in hand yet."""
    rows = session.execute(
        columns(col(OutboxItem.id))
        .where(col(OutboxItem.id) > after_id, *_UNSENT)
        .order_by(col(OutboxItem.id))
        .limit(limit)
    )
    return [int(row_id) for row_id in rows.scalars()]


def load_rows(session: Session, ids: list[int]) -> list[Pending]:
    """These rows, those of them still unsent, in id order (`ids` at most BATCH)."""
    return _pending(session, col(OutboxItem.id).in_(ids), limit=len(ids))


def _pending(session: Session, which: Any, limit: int) -> list[Pending]:
    rows = session.execute(
        columns(
            col(OutboxItem.id),
            col(OutboxItem.chat_id),
            col(OutboxItem.kind),
            col(OutboxItem.payload),
            col(OutboxItem.image),
            col(OutboxItem.alert_id),
        )
        .where(which, *_UNSENT)
        .order_by(col(OutboxItem.id))
        .limit(limit)
    ).all()
    return [
        Pending(
            int(row_id),
            chat_id,
            kind,
            dict(payload),
            image,
            _original_text(session, chat_id, kind, payload),
            alert_id,
        )
        for row_id, chat_id, kind, payload, image, alert_id in rows
    ]


def _original_text(session: Session, chat_id: int, kind: str, payload: dict[str, Any]) -> str | None:
    if kind != "clear_buttons" or not payload.get("chosen"):
        return None
    original = session.exec(
        select(OutboxItem.payload).where(
            OutboxItem.chat_id == chat_id, OutboxItem.kind == "text", OutboxItem.message_id == payload.get("message_id")
        )
    ).first()
    if original is None:
        return None
    return str(original.get("text") or "") or None


_MARK_SENT = (
    update(OutboxItem)
    .where(col(OutboxItem.id) == bindparam("row_id"))
    .values(sent_at=bindparam("sent_at"), message_id=bindparam("message_id"), attempts=bindparam("attempts"))
)


def mark_sent(session: Session, delivered: list[Delivered], now: datetime) -> None:
    """One executemany on the connection (the ORM's bulk update by key costs several times more)."""
    session.connection().execute(
        _MARK_SENT,
        [{"row_id": d.row_id, "sent_at": now, "message_id": d.message_id, "attempts": d.attempts} for d in delivered],
    )


def mark_failed(session: Session, row_id: int, reason: str, attempts: int) -> None:
    session.execute(
        update(OutboxItem).where(col(OutboxItem.id) == row_id).values(failed=reason[:200], attempts=attempts)
    )


def drop_pending(session: Session, chat_id: int, reason: str) -> None:
    """Set aside everything still waiting for this chat."""
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.chat_id) == chat_id, col(OutboxItem.sent_at).is_(None), col(OutboxItem.failed).is_(None))
        .values(failed=reason)
    )
