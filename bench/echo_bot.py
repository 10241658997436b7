"""A bare python-telegram-bot echo bot (Application with polling), the yardstick for the full bot.

Usage: python -m bench.echo_bot TOKEN BASE_URL  (BASE_URL ends in /bot); stops on SIGTERM.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    token, base_url = sys.argv[1], sys.argv[2]
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0, timeout=10, bootstrap_retries=0)


if __name__ == "__main__":
    main()
