"""Injected time for the watch policy: wall-clock microseconds and a monotonic clock.

The protocol matches lib_common.clock.Clock's two reading methods, so its ManualClock fits too;
pmdaemon does not depend on lib_common (it is vendored and installs on its own).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_us(self) -> int:
        """Wall-clock time, integer microseconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...


class SystemClock:
    """The real clock."""

    def now_us(self) -> int:
        return time.time_ns() // 1000

    def monotonic(self) -> float:
        return time.monotonic()
