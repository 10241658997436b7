"""The full guidebot Telegram application for the benchmark: settings from GUIDEBOT_*,
Telegram's sending limits lifted (the echo bot has none either). Stops on SIGTERM.

An optional argument gives the role: all (default), receive or send."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys

from bot.app import build_app
from bot.channels.telegram.pacing import SendLimits
from bot.channels.telegram.runtime import TelegramBot, Tuning
from bot.config import Settings

UNLIMITED = Tuning(limits=SendLimits(overall=None, per_chat=None))


async def serve(role: str) -> None:
    app = build_app(Settings(), run_migrations=False)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with TelegramBot(app, tuning=dataclasses.replace(UNLIMITED, role=role)):
        await stop.wait()
    app.db.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(sys.argv[1] if len(sys.argv) > 1 else "all"))
