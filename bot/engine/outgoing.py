"""Outgoing messages, as rows in the outbox; the channel delivers them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.storage.models import OutboxItem

Buttons = list[list[dict[str, str]]]


@dataclass
class Outbox:
    """Adds outbox rows to the turn's transaction."""

    session: Session
    now: datetime

    def text(self, chat_id: int, text: str, *, buttons: Buttons | None = None, course_id: int | None = None,
             alert_id: int | None = None) -> OutboxItem:
        payload: dict[str, Any] = {"text": text}
        if buttons:
            payload["buttons"] = buttons
        return self._add(chat_id, "text", payload, course_id=course_id, alert_id=alert_id)

    def photo(self, chat_id: int, image: bytes, caption: str, *, course_id: int | None = None) -> OutboxItem:
        return self._add(chat_id, "photo", {"caption": caption}, image=image, course_id=course_id)

    def document(self, chat_id: int, data: bytes, filename: str, caption: str,
                 *, course_id: int | None = None) -> OutboxItem:
        return self._add(chat_id, "document", {"filename": filename, "caption": caption}, image=data,
                         course_id=course_id)

    def answer_callback(self, chat_id: int, callback_id: str, text: str = "") -> OutboxItem:
        return self._add(chat_id, "callback", {"callback_id": callback_id, "text": text})

    def clear_buttons(self, chat_id: int, message_id: int, chosen: str | None = None) -> OutboxItem:
        return self._add(chat_id, "clear_buttons", {"message_id": message_id, "chosen": chosen})

    def _add(self, chat_id: int, kind: str, payload: dict[str, Any], *, image: bytes | None = None,
             course_id: int | None = None, alert_id: int | None = None) -> OutboxItem:
        item = OutboxItem(chat_id=chat_id, kind=kind, payload=payload, image=image, course_id=course_id,
                          alert_id=alert_id, created_at=self.now)
        self.session.add(item)
        return item
