"""Telegram's sending limits: about 30 messages a second in all, and 1 a second per chat.

Each limit is a token bucket (kept as a "theoretical arrival time"): a short burst
goes out at once, and a longer run is spread out to the rate.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class SendLimits:
    """Messages per second overall and per chat (None: no limit), and the bursts allowed."""

    overall: float | None = 30.0
    per_chat: float | None = 1.0
    chat_burst: int = 3


class Bucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.next_at = 0.0

    def reserve(self, now: float) -> float:
        """Take a slot; returns how long to wait for it."""
        start = max(self.next_at, now)
        self.next_at = start + self.interval
        return max(0.0, start - self.tolerance - now)

    def full(self, now: float) -> bool:
        return self.next_at <= now


class Pacer:
    def __init__(self, limits: SendLimits) -> None:
        self.limits = limits
        self.overall = Bucket(limits.overall, 1) if limits.overall else None
        self.chats: dict[int, Bucket] = {}

    async def wait_turn(self, chat_id: int) -> None:
        """Wait until one more message may go to this chat."""
        loop = asyncio.get_running_loop()
        if self.limits.per_chat:
            bucket = self.chats.get(chat_id)
            if bucket is None:
                if len(self.chats) > 1000:
                    self._forget_idle(loop.time())
                bucket = self.chats[chat_id] = Bucket(self.limits.per_chat, self.limits.chat_burst)
            await _sleep(bucket.reserve(loop.time()))
        if self.overall is not None:
            await _sleep(self.overall.reserve(loop.time()))

    def _forget_idle(self, now: float) -> None:
        for chat_id in [chat for chat, bucket in self.chats.items() if bucket.full(now)]:
            del self.chats[chat_id]


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
