"""The command menu users see in Telegram, in nb and en, from the dialog texts."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.dialogs.render import Renderer
from bot.dialogs.system import USER_COMMANDS

log = logging.getLogger(__name__)

MENU_LANGUAGES = ("nb", "en")


def menu(renderer: Renderer, locale: str) -> list[BotCommand]:
    return [BotCommand(name, renderer.render(locale, f"commands.{name}", {})[:256]) for name in USER_COMMANDS]


async def register_commands(bot: Bot, renderer: Renderer, default_locale: str) -> bool:
    """setMyCommands for each language, and the default for everyone else."""
    try:
        for language in MENU_LANGUAGES:
            await bot.set_my_commands(menu(renderer, language), language_code=language)
        await bot.set_my_commands(menu(renderer, default_locale))
    except TelegramError as exc:
        log.warning("the command menu was not registered (%s); it is tried again at the next start", type(exc).__name__)
        return False
    return True
