"""The scheduler loop's work: due check-ins, reminders and alert re-sends, found in the database."""

from __future__ import annotations

import logging
from functools import partial

from bot.app import App
from bot.channels.telegram.database import Database
from bot.channels.telegram.privacy import describe
from bot.channels.telegram.worker import Wake
from bot.scheduler import due_events

log = logging.getLogger(__name__)


class Timers:
    def __init__(self, app: App, db: Database, wake_sender: Wake) -> None:
        self.app = app
        self.db = db
        self.wake_sender = wake_sender

    async def run_due(self) -> int:
        """Run every due timer, each in its own transaction; returns how many ran."""
        events = await self.db.run(
            lambda session: due_events(
                session, self.app.engine.clock.now(), course_ttl_days=self.app.settings.course_ttl_days
            )
        )
        for event in events:
            try:
                await self.db.run(partial(self.app.engine.handle, event=event))
            except Exception as exc:  # noqa: BLE001 (still due, so it is tried again at the next round)
                log.error("a timer (course %s) failed: %s", event.course_id, describe(exc))
                continue
            self.wake_sender()
        return len(events)
