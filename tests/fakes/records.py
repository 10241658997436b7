"""Plain records of what the bot did against the fake Telegram server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class WaitTimeout(AssertionError):
    """A ``wait_*`` helper gave up; the message says what was seen instead."""


@dataclass
class UploadedFile:
    """A file the bot uploaded (multipart) or a simulated user sent."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass
class Call:
    """One HTTP request to the Bot API.

    Unpacks as ``method, params, time`` so ``for method, params, t in server.all_calls``
    works. ``status`` is the HTTP status answered (0 while still in flight) and
    ``description`` Telegram's error text for failed calls.
    """

    method: str
    params: dict[str, Any]
    time: float
    status: int = 0
    description: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.method, self.params, self.time))

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class SentMessage:
    """A message the bot delivered to a chat (sendMessage, sendPhoto, sendDocument).

    ``text`` is the text or caption as sent (markup not stripped) and, like
    ``reply_markup``, follows later edits; the edits themselves are in ``chat.edits``.
    ``raw`` is the Message object the server answered with (kept up to date).
    """

    chat_id: int
    message_id: int
    method: str
    time: float
    params: dict[str, Any]
    raw: dict[str, Any]
    text: str | None = None
    reply_markup: dict[str, Any] | None = None
    file: UploadedFile | None = None
    deleted: bool = False

    @property
    def photo(self) -> bytes | None:
        return self.file.data if self.file and self.method == "sendPhoto" else None

    @property
    def document(self) -> bytes | None:
        return self.file.data if self.file and self.method == "sendDocument" else None

    @property
    def filename(self) -> str | None:
        return self.file.filename if self.file else None

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline keyboard buttons ([] if there is no inline keyboard)."""
        if not self.reply_markup:
            return []
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline keyboard buttons, row by row."""
        return [button["text"] for row in self.keyboard for button in row]

    def button(self, label: str) -> dict[str, Any]:
        for row in self.keyboard:
            for button in row:
                if button["text"] == label:
                    return button
        raise LookupError(f"no button {label!r} on message {self.message_id}: {self.buttons}")

    def callback_data(self, label: str) -> str:
        data = self.button(label).get("callback_data")
        if data is None:
            raise LookupError(f"button {label!r} has no callback_data")
        return str(data)


@dataclass
class Edit:
    """An editMessageText / editMessageReplyMarkup / editMessageCaption that succeeded."""

    chat_id: int
    message_id: int
    method: str
    time: float
    text: str | None
    reply_markup: dict[str, Any] | None


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery call."""

    callback_query_id: str
    time: float
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
