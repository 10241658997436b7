"""Fault injection: make the next N matching Bot API calls fail like Telegram does."""

from __future__ import annotations

from dataclasses import dataclass
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
