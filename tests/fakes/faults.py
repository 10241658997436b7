"""Fault injection: make the next N matching Bot API calls fail like Telegram does."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["429", "500", "502", "timeout", "forbidden"]

BLOCKED = "Forbidden: bot was blocked by the user"


@dataclass
class Fault:
    """``count=None`` means "until faults.clear()".

    ``method=None`` matches every method except getUpdates (a polling bot would
    otherwise swallow the fault); name getUpdates explicitly to fault polling.
    ``timeout`` holds the request ``delay`` seconds, then answers 504 without
    delivering, or with ``deliver=True`` processes it normally (a slow success the
    client may already have given up on).
    """

    kind: FaultKind
    method: str | None = None
    count: int | None = 1
    retry_after: int = 1
    chat_id: int | None = None
    delay: float = 10.0
    deliver: bool = False
    hits: int = 0

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method is None and method == "getUpdates":
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count


class FaultInjector:
    """``server.faults``: a list of pending faults, consumed first-added first."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.fired: list[tuple[Fault, str]] = []

    def add(
        self,
        method: str | None = None,
        kind: FaultKind = "500",
        count: int | None = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
        delay: float = 10.0,
        deliver: bool = False,
    ) -> Fault:
        fault = Fault(kind, method, count, retry_after, chat_id, delay, deliver)
        self.pending.append(fault)
        return fault

    def clear(self) -> None:
        self.pending.clear()

    def take(self, method: str, params: dict[str, Any]) -> Fault | None:
        """The fault to apply to this call, if any (counts it as used)."""
        for fault in self.pending:
            if fault.matches(method, params):
                fault.hits += 1
                self.fired.append((fault, method))
                if fault.exhausted:
                    self.pending.remove(fault)
                return fault
        return None


# Methods that put a message in a chat, and so count against Telegram's sending limits.
MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


@dataclass
class FloodControl:
    """``server.flood``: Telegram's sending limits, enforced as a sliding window.

    A message that would be more than ``overall`` in any ``window`` seconds (counting the
    messages accepted before it, to all chats), or more than ``per_chat`` in any
    ``chat_window`` to one chat, is refused with 429 and ``retry_after``. Only messages
    count (``MESSAGE_METHODS``); button answers and edits do not.
    """

    overall: int | None = 30
    per_chat: int | None = None
    window: float = 1.0
    chat_window: float = 1.0
    retry_after: int = 1
    refused: int = 0
    _all: deque[float] = field(default_factory=deque)
    _chats: dict[Any, deque[float]] = field(default_factory=dict)

    def admit(self, method: str, params: dict[str, Any], now: float) -> bool:
        """Whether this call may go through (and if it is a message, count it)."""
        if method not in MESSAGE_METHODS:
            return True
        chat = self._chats.setdefault(params.get("chat_id"), deque())
        for times, window in ((self._all, self.window), (chat, self.chat_window)):
            while times and times[0] <= now - window:
                times.popleft()
        if (self.overall is not None and len(self._all) >= self.overall) or (
            self.per_chat is not None and len(chat) >= self.per_chat
        ):
            self.refused += 1
            return False
        self._all.append(now)
        chat.append(now)
        return True
