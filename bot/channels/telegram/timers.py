"""The scheduler's rounds in the Telegram process, on the channel's database threads."""

from __future__ import annotations

from bot.app import App
from bot.channels.telegram.database import Database
from bot.channels.telegram.worker import Wake
from bot.scheduler import run_due


class Timers:
    def __init__(self, app: App, db: Database, wake_sender: Wake) -> None:
        self.app = app
        self.db = db
        self.wake_sender = wake_sender

    async def run_due(self) -> int:
        """Run every due timer, each in its own transaction; returns how many were due."""
        return await run_due(self.db.run, self.app.engine, after_each=self.wake_sender)
