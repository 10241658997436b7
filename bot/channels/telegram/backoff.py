"""Pauses between retries: doubling from `first`, capped, with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    cap: float = 30.0

    def delay(self, failures: int) -> float:
        ceiling: float = min(self.cap, self.first * 2.0 ** (max(failures, 1) - 1))
        return ceiling * random.uniform(0.5, 1.0)
