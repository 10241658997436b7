"""The pacer's window guard, on an event loop whose clock the test drives.

The loop's clock is virtual: when the loop would sleep, the clock jumps ahead by the
sleep and a random lateness (a busy machine wakes timers late, sometimes very late),
so a run of minutes takes milliseconds and every schedule is reproducible from its
seed. Each message is counted where the server counts it: when it arrives, at a random
moment between leaving and its answer coming back (a busy way bunches messages).
"""

from __future__ import annotations

import asyncio
import random
import selectors
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.telegram.pacing import WINDOW, WINDOW_MARGIN, Pacer, SendLimits

CALL = (0.005, 0.08)  # seconds from a message leaving to its answer coming back


class Clock:
    def __init__(self, rng: random.Random, late: float, stall: float) -> None:
        self.now = 1000.0
        self.rng, self.late, self.stall = rng, late, stall

    def sleep(self, seconds: float) -> None:
        lateness = self.rng.uniform(0, self.late)
        if self.rng.random() < 0.02:  # now and then the loop is held up for a long while
            lateness += self.rng.uniform(0, self.stall)
        self.now += seconds + lateness


class JumpingSelector(selectors.DefaultSelector):
    """Never blocks: instead of waiting `timeout`, moves the clock on by it (and the lateness)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if not ready and timeout:
            self.clock.sleep(timeout)
        return ready


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: Clock) -> None:
        super().__init__(JumpingSelector(clock))
        self.clock = clock

    def time(self) -> float:
        return self.clock.now


def run(clock: Clock, main: Callable[[], Awaitable[Any]]) -> Any:
    loop = VirtualLoop(clock)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def most_in_window(times: list[float], window: float = 1.0) -> int:
    """The most of `times` inside any half-open window [t, t + window), as the server counts."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - window:
            first += 1
        most = max(most, last - first + 1)
    return most


class Recorder:
    """Sends through a pacer and notes when each message reaches the server."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.arrivals: list[tuple[int, float]] = []  # (chat, when)
        self.left: list[float] = []  # when the gate let each go
        self._row = 0

    async def send(self, pacer: Pacer, chat_id: int, *, alert: bool = False) -> None:
        self._row += 1
        loop = asyncio.get_running_loop()
        async with pacer.message(chat_id, self._row, alert=alert):
            call = self.rng.uniform(*CALL)
            self.left.append(loop.time())
            self.arrivals.append((chat_id, loop.time() + self.rng.uniform(0, call)))
            await asyncio.sleep(call)  # the call holds its connection until the answer is back

    async def chat(self, pacer: Pacer, chat_id: int, messages: int, start: float) -> None:
        await asyncio.sleep(start)
        if self.rng.random() < 0.2:
            pacer.heard_from(chat_id)
        for _ in range(messages):
            await self.send(pacer, chat_id, alert=chat_id < 0)

    def overall(self) -> int:
        return most_in_window([at for _, at in self.arrivals])

    def per_chat(self, window: float = 1.0) -> int:
        chats: dict[int, list[float]] = {}
        for chat_id, at in self.arrivals:
            chats.setdefault(chat_id, []).append(at)
        return max(most_in_window(times, window) for times in chats.values())


def burst(rate: float, seed: int, late: float, stall: float) -> Recorder:
    """300 or so messages to 80 chats (one a group), asked for at random times over two seconds."""
    rng = random.Random(seed)
    clock = Clock(rng, late, stall)
    recorder = Recorder(rng)

    async def main() -> None:
        pacer = Pacer(SendLimits(overall=rate), connections=8)
        chats = [(chat_id, rng.randint(1, 7), rng.uniform(0, 2.0)) for chat_id in range(1, 80)]
        chats.append((-1001, 25, 0.5))  # the team chat: a group, 20 a minute
        await asyncio.gather(*(recorder.chat(pacer, *chat) for chat in chats))

    run(clock, main)
    return recorder


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), late=st.floats(0, 0.03), stall=st.floats(0, 0.5))
def test_no_31_messages_in_any_second_under_a_jittered_schedule(seed: int, late: float, stall: float) -> None:
    recorder = burst(29.0, seed, late, stall)
    assert recorder.overall() <= 30
    assert recorder.per_chat() <= 3  # a chat's burst of three, then one a second
    team = [at for chat_id, at in recorder.arrivals if chat_id == -1001]
    assert len(team) == 25 and most_in_window(team, 60.0) <= 20  # a group: 20 a minute


@settings(max_examples=10, deadline=None)
# A loop that wakes on time: the bucket's early releases add up, and only the guard stops them.
@given(seed=st.integers(0, 2**32), late=st.floats(0, 0.003), stall=st.floats(0, 0.2))
def test_the_guard_holds_even_at_a_rate_set_to_telegrams_own(seed: int, late: float, stall: float) -> None:
    # At 30 a second the bucket alone lets 31 messages leave within 0.996-1.0 s: the guard
    # keeps 31 further apart than a second and its margin.
    recorder = burst(30.0, seed, late, stall)
    assert most_in_window(recorder.left, WINDOW + WINDOW_MARGIN - 1e-9) <= 30
    assert recorder.overall() <= 30


def takeover(seed: int, *, hold: bool) -> Recorder:
    """A sender sends a chat's burst and a second's worth to others, and dies; another takes over at once."""
    rng = random.Random(seed)
    clock = Clock(rng, 0.002, 0.0)
    recorder = Recorder(rng)

    async def main() -> None:
        first = Pacer(SendLimits(overall=29.0), connections=8)
        others = (recorder.chat(first, chat_id, 1, 0.0) for chat_id in range(2, 30))
        await asyncio.gather(*others, recorder.chat(first, 1, 3, 0.9))  # chat 1's burst is its last second's work
        first.close()  # killed: what it sent, the next sender does not know
        second = Pacer(SendLimits(overall=29.0), connections=8)
        if hold:
            second.hold()
        others = (recorder.chat(second, chat_id, 1, 0.0) for chat_id in range(30, 60))
        await asyncio.gather(recorder.chat(second, 1, 3, 0.0), *others)

    run(clock, main)
    return recorder


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_a_sender_taking_over_waits_out_what_the_last_one_sent(seed: int) -> None:
    assert takeover(seed, hold=False).per_chat() > 3  # what happened: a chat got 4 or more in a second
    recorder = takeover(seed, hold=True)
    assert recorder.per_chat() <= 3
    assert recorder.overall() <= 30
