"""Test doubles; ``FakeTelegram`` is a fake Telegram Bot API server (see telegram_server)."""

from __future__ import annotations

from .chats import FakeChat, FakeGroup, FakeUser
from .faults import MESSAGE_METHODS, Fault, FaultInjector, FloodControl
from .records import Call, CallbackAnswer, Edit, SentMessage, UploadedFile, WaitTimeout
from .telegram_server import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram, most_within
from .validation import ApiError

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "MESSAGE_METHODS",
    "TOKEN",
    "ApiError",
    "Call",
    "CallbackAnswer",
    "Edit",
    "FakeChat",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "Fault",
    "FaultInjector",
    "FloodControl",
    "SentMessage",
    "UploadedFile",
    "WaitTimeout",
    "most_within",
]
