"""Telegram's sending limits: about 30 messages a second in all, and 1 a second per chat.

Each limit is a token bucket (kept as a "theoretical arrival time"): a short burst
goes out at once, and a longer run is spread out to the rate. A slot is taken when
the message really leaves, so a message held up elsewhere never leaves a burst's
worth of credit behind it.

The overall limit is a gate that lets one message through at a time, when the rate
allows and a connection is free. Among the messages waiting at the gate:

1. alerts and the clinicians' team chat first;
2. then chats in conversation: a message went to them, or their person wrote, in the
   last `live_for` seconds. So once a chat's first message has left, the rest of its
   batch (the question after its intro) follows at once instead of queueing behind
   every other chat's work, and a person who answers during a burst gets the reply
   before the backlog;
3. then everything else, oldest row first.

Behind the buckets stands a window guard, which counts what the server counts. The
server counts a message when it arrives, which is some time between the moment it
left here and the moment its answer came back (a busy machine or network can bunch
messages on the way). So the guard counts each message until its answer is back: a
message leaves only when fewer than 30 are in flight or came back within the last
second (and a small margin), and a chat's message only when fewer than its burst
came back within its last second (a group's 20 within its last minute). Then no 31
arrive within one second, however the way bunches them. At the default rate the
buckets' own margin keeps the guard idle while answers come back within about 30 ms;
it holds after late wake-ups, early releases, a slow way, a rate set too high, and a
takeover: a sender that takes over from one that died keeps quiet for one window
first (`hold`), since it cannot know what the other sent in its last second.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

TELEGRAM_OVERALL = 30.0  # Telegram's limit, messages a second; the bot stays under it (GUIDEBOT_SEND_RATE)

ALERTS, LIVE, OTHER = 0, 1, 2  # the gate's tiers, first served first
PRUNE_AT = 1000  # chats remembered before the quiet ones are forgotten
# The gate may let a message go this much before its slot, so that a gate woken late by a
# busy event loop (a few ms under load, tens at times) makes up the time instead of
# losing it. The window guard, not this, keeps 31 out of any second at the server (before
# the guard, 8 ms drew 429s).
GATE_EARLY = 0.02
# The window guard's margin over Telegram's one second. The guard counts a message until
# its answer is back, which already bounds its arrival; the margin is for the clocks.
WINDOW = 1.0
WINDOW_MARGIN = 0.005
POLL = 0.01  # how often the gate looks again while 30 messages are in flight at once
GROUP_WINDOW = 60.0  # Telegram: about 20 messages a minute to a group
# A wait shorter than this is no wait: a timer that short fires at once, and waiting for
# it again and again would spin (the clock's floats cannot always move on by less).
NO_WAIT = 1e-6


@dataclass(frozen=True)
class SendLimits:
    """Messages per second overall and per chat (None: no limit), and the bursts allowed.

    The overall rate comes from GUIDEBOT_SEND_RATE, a little under Telegram's 30 a second.
    """

    overall: float | None
    per_chat: float | None = 1.0
    chat_burst: int = 3
    live_for: float = 60.0  # seconds a chat counts as in conversation
    per_group_minute: int | None = 20  # messages to a group (a negative chat id) in any minute

    @property
    def overall_window(self) -> int | None:
        """The most messages allowed in any second and margin: Telegram's 30, or more at a higher rate set."""
        return None if self.overall is None else max(int(TELEGRAM_OVERALL), math.ceil(self.overall))


class Closed(Exception):
    """The pacer was closed (the bot is stopping) while a message waited for its turn."""


class Bucket:
    def __init__(self, rate: float, burst: int, early: float = 0.0) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval + early
        self.next_at = 0.0

    def delay(self, now: float) -> float:
        """How long until a slot is free."""
        return max(0.0, self.next_at - self.tolerance - now)

    def take(self, now: float) -> None:
        self.next_at = max(self.next_at, now) + self.interval

    def reserve(self, now: float) -> float:
        """Take a slot; returns how long to wait for it."""
        wait = self.delay(now)
        self.take(now)
        return wait


class Window:
    """At most `count` in any `seconds`: the times of the last `count` are kept."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.times: deque[float] = deque(maxlen=count)

    def delay(self, now: float, in_flight: int = 0) -> float:
        """How long until one more may go without `count + 1` inside the window, when
        `in_flight` more (not back yet) count as inside it too."""
        room = self.count - in_flight
        if room <= 0:
            return POLL
        if len(self.times) < room:
            return 0.0
        return max(0.0, self.times[-room] + self.seconds - now)

    def take(self, now: float) -> None:
        self.times.append(max(now, self.times[-1]) if self.times else now)

    def idle(self, now: float) -> bool:
        """Nothing inside the window any more: the same as a new one."""
        return not self.times or self.times[-1] + self.seconds <= now


class ChatLimit:
    """One chat's limits: a bucket (a burst, then the rate), and window guards behind it."""

    def __init__(self, limits: SendLimits, chat_id: int) -> None:
        assert limits.per_chat
        self.bucket = Bucket(limits.per_chat, limits.chat_burst)
        self.windows = [Window(limits.chat_burst, (WINDOW + WINDOW_MARGIN) / limits.per_chat)]
        if chat_id < 0 and limits.per_group_minute:
            self.windows.append(Window(limits.per_group_minute, GROUP_WINDOW + WINDOW_MARGIN))

    def delay(self, now: float) -> float:
        return max(self.bucket.delay(now), *(window.delay(now) for window in self.windows))

    def take(self, now: float) -> None:
        """A message left (the bucket counts it from now)."""
        self.bucket.take(now)

    def back(self, now: float) -> None:
        """Its answer came back (the windows count it from now)."""
        for window in self.windows:
            window.take(now)

    def idle(self, now: float) -> bool:
        return self.bucket.next_at <= now and all(window.idle(now) for window in self.windows)


class Pacer:
    def __init__(self, limits: SendLimits, connections: int) -> None:
        self.limits = limits
        self.overall = Bucket(limits.overall, 1, early=GATE_EARLY) if limits.overall else None
        count = limits.overall_window
        self.window = Window(count, WINDOW + WINDOW_MARGIN) if count is not None else None
        self._quiet_until = 0.0  # no message before this (loop time): see hold()
        self._in_flight = 0  # messages let through the gate whose answer is not back yet
        self.chats: dict[int, ChatLimit] = {}
        self._last_seen: dict[int, float] = {}  # chat -> when it last had a message or wrote
        self._prune_at = self._prune_chats_at = PRUNE_AT
        self._connections = asyncio.Semaphore(connections)
        self._waiting: list[tuple[int, int, int, asyncio.Future[None]]] = []  # (tier, row id, seq, future)
        self._seq = itertools.count()
        self._gate: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()

    @property
    def waiting(self) -> int:
        """Messages waiting at the gate for their turn under the overall limit."""
        return len(self._waiting)

    def hold(self, seconds: float = WINDOW + WINDOW_MARGIN) -> None:
        """Let no message go for `seconds`: a sender taking over from one that died cannot know
        what that one sent in its last second, to all chats or to one; after a window of
        quiet, none of it counts any more."""
        self._quiet_until = max(self._quiet_until, asyncio.get_running_loop().time() + seconds)

    def heard_from(self, chat_id: int) -> None:
        """The person in this chat just wrote: their replies go before the backlog."""
        self._remember(chat_id, asyncio.get_running_loop().time())

    @asynccontextmanager
    async def message(self, chat_id: int, row_id: int, *, alert: bool = False) -> AsyncIterator[None]:
        """Wait until one more message may go to this chat, then hold a connection for it."""
        loop = asyncio.get_running_loop()
        await self._sleep(self._quiet_until - loop.time())
        waited = self.chats.get(chat_id)
        while waited is not None and (delay := waited.delay(loop.time())) > NO_WAIT:
            await self._sleep(delay)
        if self.overall is None:
            await self._connect()
        else:
            await self._turn(self._tier(chat_id, alert, loop.time()), row_id)
        try:
            now = loop.time()
            self._take_chat_slot(chat_id, now)
            self._remember(chat_id, now)
            yield
        finally:
            self._connections.release()
            self._back(chat_id, loop.time())

    @asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        """A connection for a call that is not a message (an edit): no limit applies."""
        await self._connect()
        try:
            yield
        finally:
            self._connections.release()

    def close(self) -> None:
        """Let nothing more through; whoever waits gets Closed."""
        self._closed.set()
        if self._gate is not None:
            self._gate.cancel()
        for *_, future in self._waiting:
            if not future.done():
                future.set_exception(Closed())
        self._waiting.clear()

    # -- inside ------------------------------------------------------------------

    def _take_chat_slot(self, chat_id: int, now: float) -> None:
        """Count a message against its chat. A chat's bucket is made on its first message and
        forgotten once full again, which is the same as a new one."""
        if not self.limits.per_chat:
            return
        limit = self.chats.get(chat_id)
        if limit is None:
            limit = self.chats[chat_id] = ChatLimit(self.limits, chat_id)
        limit.take(now)
        if len(self.chats) > self._prune_chats_at:  # now and then, so a burst of new chats costs no more
            for idle in [chat for chat, held in self.chats.items() if held.idle(now)]:
                del self.chats[idle]
            self._prune_chats_at = max(PRUNE_AT, 2 * len(self.chats))

    def _tier(self, chat_id: int, alert: bool, now: float) -> int:
        if alert:
            return ALERTS
        seen = self._last_seen.get(chat_id)
        return LIVE if seen is not None and now - seen < self.limits.live_for else OTHER

    async def _connect(self) -> None:
        if self._closed.is_set():
            raise Closed
        await self._connections.acquire()

    async def _turn(self, tier: int, row_id: int) -> None:
        """Wait at the gate; on return a connection is held for this message."""
        if self._closed.is_set():
            raise Closed
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (tier, row_id, next(self._seq), future))
        if self._gate is None:
            self._gate = asyncio.create_task(self._open_gate(), name="send-gate")
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._connections.release()  # let through, but gone before it could go
                self._back(None, asyncio.get_running_loop().time())
            raise

    async def _open_gate(self) -> None:
        """Let the first waiting message through whenever the rate allows and a connection is free."""
        assert self.overall is not None
        loop = asyncio.get_running_loop()
        try:
            while self._waiting and not self._closed.is_set():
                await self._connections.acquire()
                while (delay := self._gate_delay(loop.time())) > NO_WAIT:
                    try:
                        await asyncio.sleep(delay)  # a plain timer: the gate must not wake late
                    except asyncio.CancelledError:
                        self._connections.release()
                        raise
                future = self._next_waiting()
                if future is None:
                    self._connections.release()
                    continue
                self.overall.take(loop.time())
                if self.window is not None:
                    self._in_flight += 1
                future.set_result(None)
        finally:
            self._gate = None

    def _gate_delay(self, now: float) -> float:
        """Until the rate's next slot, and until the window guard lets one more go."""
        assert self.overall is not None
        delay = max(self.overall.delay(now), self._quiet_until - now)
        return max(delay, self.window.delay(now, self._in_flight)) if self.window is not None else delay

    def _back(self, chat_id: int | None, now: float) -> None:
        """A message's answer is back (or it never left): the windows count it from now."""
        if self.window is not None and self.overall is not None:
            self._in_flight -= 1
            self.window.take(now)
        limit = self.chats.get(chat_id) if chat_id is not None else None
        if limit is not None:
            limit.back(now)

    def _next_waiting(self) -> asyncio.Future[None] | None:
        while self._waiting:
            *_, future = heapq.heappop(self._waiting)
            if not future.done():
                return future
        return None

    async def _sleep(self, seconds: float) -> None:
        """Sleep, unless the pacer is closed meanwhile."""
        if seconds > NO_WAIT:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), seconds)
        if self._closed.is_set():
            raise Closed

    def _remember(self, chat_id: int, now: float) -> None:
        self._last_seen[chat_id] = now
        if len(self._last_seen) > self._prune_at:  # now and then, so a burst of new chats costs no more
            for quiet in [chat for chat, seen in self._last_seen.items() if now - seen >= self.limits.live_for]:
                del self._last_seen[quiet]
            self._prune_at = max(PRUNE_AT, 2 * len(self._last_seen))
