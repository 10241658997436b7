"""Telegram deep links for access codes."""

from __future__ import annotations

from bot.config import Settings
from bot.engine.codes import normalize


def deep_link(settings: Settings, code: str) -> str | None:
    if not settings.bot_username:
        return None
    return f"https://t.me/{settings.bot_username}?start={normalize(code)}"
