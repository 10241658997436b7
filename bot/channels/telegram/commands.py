"""The command menu users see in Telegram, in every locale, from the dialog texts."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.dialogs.contract import USER_COMMANDS
from bot.dialogs.model import DialogSet
from bot.dialogs.render import Renderer
from bot.dialogs.store import Loaded

log = logging.getLogger(__name__)


def menu(renderer: Renderer, locale: str) -> list[BotCommand]:
    return [BotCommand(name, renderer.render(locale, f"commands.{name}", {})[:256]) for name in USER_COMMANDS]


def menu_languages(dialogs: DialogSet) -> dict[str, str]:
    """Telegram language code -> the locale whose menu it gets (Telegram takes two-letter codes)."""
    codes = {code: code for code in dialogs.locales}
    for code, locale in dialogs.locales.items():
        for language in locale.telegram:
            codes.setdefault(language, code)
    return {language: code for language, code in codes.items() if len(language) == 2 and language.isalpha()}


async def register_commands(bot: Bot, current: Loaded, default_locale: str) -> bool:
    """setMyCommands for each language, and the default for everyone else, all at once: each
    menu stands alone, so they need not wait for each other's round trip to Telegram."""
    calls = [
        bot.set_my_commands(menu(current.renderer, locale), language_code=language)
        for language, locale in menu_languages(current.dialogs).items()
    ]
    calls.append(bot.set_my_commands(menu(current.renderer, default_locale)))
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    for outcome in failed:
        if not isinstance(outcome, TelegramError):
            raise outcome
    if failed:
        log.warning(
            "the command menu was not registered (%s); it is tried again at the next start", type(failed[0]).__name__
        )
        return False
    return True
