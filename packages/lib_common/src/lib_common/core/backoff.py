"""Exponential backoff with jitter (the "full jitter" variant keeps retry storms apart)."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """`next_delay()` gives base·2ⁿ capped at `cap`, scaled by a random factor in [1-jitter, 1]."""

    def __init__(
        self,
        base_s: float = 0.5,
        cap_s: float = 30.0,
        jitter: float = 0.5,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if base_s <= 0 or cap_s < base_s or not 0 <= jitter <= 1:
            raise ValueError(f"need 0 < base_s <= cap_s and 0 <= jitter <= 1, got {base_s}, {cap_s}, {jitter}")
        self.base_s = base_s
        self.cap_s = cap_s
        self.jitter = jitter
        self._rand = rand
        self.attempts = 0

    def next_delay(self) -> float:
        raw = min(self.cap_s, self.base_s * float(2 ** min(self.attempts, 62)))
        self.attempts += 1
        return raw * (1.0 - self.jitter * self._rand())

    def reset(self) -> None:
        self.attempts = 0
