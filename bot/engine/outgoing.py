"""Outgoing messages, as rows in the outbox; the channel delivers them.

The rows are collected while a turn runs and written with one INSERT when its
transaction commits, in the order they were made: the sender delivers them in
that order, and a rolled-back turn sends nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlmodel import Session

from bot.storage.models import OutboxItem

Buttons = list[list[dict[str, str]]]
_INSERT = insert(OutboxItem.__table__)  # type: ignore[attr-defined]


class Outbox:
    """Adds outbox rows to the turn's transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._rows: list[dict[str, Any]] = []
        event.listen(session, "before_commit", self._write, once=True)

    def text(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: Buttons | None = None,
        course_id: int | None = None,
        alert_id: int | None = None,
    ) -> None:
        payload: dict[str, Any] = {"text": text}
        if buttons:
            payload["buttons"] = buttons
        self._add(chat_id, "text", payload, course_id=course_id, alert_id=alert_id)

    def photo(self, chat_id: int, image: bytes, caption: str, *, course_id: int | None = None) -> None:
        self._add(chat_id, "photo", {"caption": caption}, image=image, course_id=course_id)

    def document(self, chat_id: int, data: bytes, filename: str, caption: str, *, course_id: int | None = None) -> None:
        self._add(chat_id, "document", {"filename": filename, "caption": caption}, image=data, course_id=course_id)

    def answer_callback(self, chat_id: int, callback_id: str, text: str = "") -> None:
        self._add(chat_id, "callback", {"callback_id": callback_id, "text": text})

    def clear_buttons(self, chat_id: int, message_id: int, chosen: str | None = None) -> None:
        self._add(chat_id, "clear_buttons", {"message_id": message_id, "chosen": chosen})

    def _add(
        self,
        chat_id: int,
        kind: str,
        payload: dict[str, Any],
        *,
        image: bytes | None = None,
        course_id: int | None = None,
        alert_id: int | None = None,
    ) -> None:
        self._rows.append(
            {
                "chat_id": chat_id,
                "kind": kind,
                "payload": payload,
                "image": image,
                "course_id": course_id,
                "alert_id": alert_id,
                "created_at": self.now,
                "attempts": 0,
                "sent_at": None,
                "failed": None,
                "message_id": None,
            }
        )

    def _write(self, session: Session) -> None:
        if self._rows:
            rows, self._rows = self._rows, []
            # The turn's other changes first, as before; then the rows through Core, not the
            # ORM's bulk insert, which cost three times as much per turn.
            session.flush()
            session.connection().execute(_INSERT, rows)
