"""One outbox row as the Bot API calls that deliver it.

Text longer than Telegram's 4096 characters goes as several messages, the buttons
on the last one; a caption over 1024 characters follows its photo or file as text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.channels.telegram.outbox import Pending

MAX_TEXT = 4096
MAX_CAPTION = 1024

Call = Callable[[Bot, int], Awaitable[int | None]]  # (bot, chat id) -> the message id sent


@dataclass(frozen=True)
class Part:
    call: Call
    is_message: bool  # counts against the sending limits


def utf16_len(text: str) -> int:
    """Telegram counts text length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces within the limit, cut at a paragraph, a line or a space where there is one."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        end = limit
        while (excess := utf16_len(rest[:end]) - limit) > 0:
            end -= (excess + 1) // 2  # a character is one or two UTF-16 units
        cut = next((at for sep in ("\n\n", "\n", " ") if (at := rest.rfind(sep, 0, end)) > end // 2), end)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return pieces


def keyboard(buttons: Any) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(b["text"]), callback_data=str(b["data"])) for b in line] for line in buttons]
    )


def _message_id(message: Message | bool) -> int | None:
    return message.message_id if isinstance(message, Message) else None


def _text(text: str, markup: InlineKeyboardMarkup | None = None) -> Part:
    async def call(bot: Bot, chat_id: int) -> int | None:
        return _message_id(await bot.send_message(chat_id, text, reply_markup=markup))

    return Part(call, True)


def _texts(text: str, markup: InlineKeyboardMarkup | None = None) -> list[Part]:
    pieces = split_text(text)
    return [_text(piece, markup if index == len(pieces) - 1 else None) for index, piece in enumerate(pieces)]


def _file(kind: str, data: bytes, caption: str, filename: str | None) -> list[Part]:
    fits = utf16_len(caption) <= MAX_CAPTION

    async def call(bot: Bot, chat_id: int) -> int | None:
        shown = caption if fits and caption else None
        if kind == "photo":
            return _message_id(await bot.send_photo(chat_id, data, caption=shown))
        return _message_id(await bot.send_document(chat_id, data, filename=filename, caption=shown))

    return [Part(call, True), *([] if fits or not caption.strip() else _texts(caption))]


def _callback(callback_id: str, text: str) -> Part:
    async def call(bot: Bot, _chat_id: int) -> int | None:
        await bot.answer_callback_query(callback_id, text=text or None)
        return None

    return Part(call, False)


def _clear_buttons(message_id: int, chosen: str | None, original: str | None) -> Part:
    """Take the keyboard off a pressed message, noting the choice under its text if given."""

    async def call(bot: Bot, chat_id: int) -> int | None:
        if chosen and original:
            shown = split_text(original)[-1]
            text = f"{shown}\n\n{chosen}" if utf16_len(shown) + utf16_len(chosen) + 2 <= MAX_TEXT else shown
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=None)
        else:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
        return message_id

    return Part(call, False)


def parts_for(pending: Pending) -> list[Part]:
    kind, payload = pending.kind, pending.payload
    if kind == "text":
        return _texts(str(payload.get("text") or ""), keyboard(payload.get("buttons")))
    if kind in ("photo", "document"):
        return _file(kind, pending.image or b"", str(payload.get("caption") or ""), payload.get("filename"))
    if kind == "callback":
        return [_callback(str(payload["callback_id"]), str(payload.get("text") or ""))]
    if kind == "clear_buttons":
        chosen = payload.get("chosen")
        return [_clear_buttons(int(payload["message_id"]), str(chosen) if chosen else None, pending.original_text)]
    raise ValueError(f"unknown outbox kind {kind!r}")
