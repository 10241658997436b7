"""The inbox table: each update is stored, once, before Telegram is told it arrived."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from sqlalchemy import JSON, bindparam, delete, text, update
from sqlmodel import Session, col, select

from bot.channels.telegram.leadership import CHAT_NAMESPACE, chat_key
from bot.channels.telegram.updates import Update, chat_id_of, update_id_of, well_formed
from bot.storage.models import InboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """An inbox row waiting for the worker, with the update it holds."""

    row_id: int
    chat_id: int
    update: Update


_NAMES = frozenset({"first_name", "last_name", "username", "title", "bio", "phone_number"})


def without_names(value: Any) -> Any:
    """The update with every name, username and phone number taken out: users are
    known by their code's label, so names are never stored, not even for a moment."""
    if isinstance(value, dict):
        return {key: without_names(item) for key, item in value.items() if key not in _NAMES}
    if isinstance(value, list):
        return [without_names(item) for item in value]
    return value


def store_updates(session: Session, updates: list[Update], now: datetime) -> list[Stored]:
    """Insert the updates not stored before (by update_id); returns the new rows for the worker, in order.

    A malformed update (one the worker could not read) is set aside alone: it is stored
    as processed, with its update_id only, so a redelivery is dropped too, and logged
    without its content. The rest of its batch goes on.
    """
    fresh: dict[int, Update] = {}
    set_aside: set[int] = set()
    for raw in updates:
        update_id = update_id_of(raw)
        if update_id is None:
            log.warning("an update without a usable update_id was set aside")
        elif well_formed(raw):
            fresh[update_id] = without_names(raw)
        else:
            log.warning("update %s is malformed and was set aside", update_id)
            set_aside.add(update_id)
    values: list[dict[str, Any]] = [
        {
            "update_id": update_id,
            "chat_id": chat_id_of(payload),
            "payload": payload,
            "received_at": now,
            "processed_at": None,
            "attempts": 0,
        }
        for update_id, payload in fresh.items()
    ]
    values += [
        {"update_id": update_id, "chat_id": 0, "payload": {}, "received_at": now, "processed_at": now, "attempts": 0}
        for update_id in set_aside
    ]
    if not values:
        return []
    values.sort(key=lambda value: int(value["update_id"]))
    # The dialect's own INSERT (for ON CONFLICT), loaded here: a SQLite bot need not load PostgreSQL's.
    dialect = import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}")
    statement = (
        dialect.insert(InboxItem)
        .values(values)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(col(InboxItem.id), col(InboxItem.chat_id), col(InboxItem.update_id))
    )
    inserted = session.execute(statement).all()
    return sorted(
        (
            Stored(int(row_id), int(chat_id), fresh[int(update_id)])
            for row_id, chat_id, update_id in inserted
            if int(update_id) in fresh
        ),
        key=lambda stored: stored.row_id,
    )


def pending_rows(session: Session) -> list[Stored]:
    """Stored updates not yet run through the engine, oldest first."""
    rows = session.exec(
        select(InboxItem.id, InboxItem.chat_id, InboxItem.payload)
        .where(col(InboxItem.processed_at).is_(None))
        .order_by(col(InboxItem.id))
    ).all()
    return [Stored(int(row_id), chat_id, dict(payload)) for row_id, chat_id, payload in rows if row_id is not None]


_LOCK_CHAT = text("SELECT pg_advisory_xact_lock(:namespace, :key)")


def lock_chat(session: Session, chat_id: int) -> None:
    """PostgreSQL: hold the chat until this transaction ends, so that no other process
    applies one of its updates at the same time (SQLite has one writer anyway)."""
    session.connection().execute(_LOCK_CHAT, {"namespace": CHAT_NAMESPACE, "key": chat_key(chat_id)})


def earlier_pending(session: Session, chat_id: int, update_id: int) -> Stored | None:
    """The chat's oldest update before `update_id` that nobody has applied yet (another
    process took it in and has not committed it, or died), or None."""
    row = session.execute(
        select(InboxItem.id, InboxItem.chat_id, InboxItem.payload)
        .where(
            col(InboxItem.chat_id) == chat_id,
            col(InboxItem.processed_at).is_(None),
            col(InboxItem.update_id) < update_id,
        )
        .order_by(col(InboxItem.update_id))
        .limit(1)
    ).first()
    if row is None or row[0] is None:
        return None
    return Stored(int(row[0]), int(row[1]), dict(row[2]))


_CLAIM = (
    update(InboxItem)
    .where(col(InboxItem.id) == bindparam("row_id"), col(InboxItem.processed_at).is_(None))
    .values(processed_at=bindparam("now"), payload=bindparam("emptied", type_=JSON))
)


def claim(session: Session, row_id: int, now: datetime) -> bool:
    """Mark the row processed, if nobody has; the caller's transaction makes it count
    only together with what the engine did. The raw update (with its text) is not
    kept, only its update_id, for deduplication."""
    result = session.connection().execute(_CLAIM, {"row_id": row_id, "now": now, "emptied": {}})
    return result.rowcount == 1


def count_failure(session: Session, row_id: int) -> int:
    row = session.get(InboxItem, row_id, with_for_update=True)
    if row is None or row.processed_at is not None:
        return 0
    row.attempts += 1
    return row.attempts


# Telegram redelivers an unconfirmed update for at most a day; a week is ample.
KEEP_PROCESSED = timedelta(days=7)


def prune_processed(session: Session, now: datetime) -> int:
    """Forget processed updates old enough that Telegram can no longer send them again."""
    result = session.execute(
        delete(InboxItem).where(
            col(InboxItem.processed_at).is_not(None), col(InboxItem.processed_at) < now - KEEP_PROCESSED
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
