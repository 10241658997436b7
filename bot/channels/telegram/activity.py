"""What the bot has taken in, and whether any chat is still being worked on.

Lets a caller wait until everything received so far is processed and delivered
(the tests do, and so does a clean stop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Activity:
    def __init__(self) -> None:
        self.running = 0  # chat tasks of the worker and the sender
        self.last_update_id = 0  # the newest update stored and queued
        self._changed = asyncio.Event()

    def track(self, task: asyncio.Task[None]) -> None:
        self.running += 1
        task.add_done_callback(self._finished)

    def received(self, update_id: int) -> None:
        self.last_update_id = max(self.last_update_id, update_id)
        self._pulse()

    def _finished(self, _task: asyncio.Task[None]) -> None:
        self.running -= 1
        self._pulse()

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._changed.wait()

    async def settled(self, update_id: int = 0) -> None:
        """Until update `update_id` is taken in and no chat is being worked on."""
        await self.wait_for(lambda: self.last_update_id >= update_id and self.running == 0)
