"""Injected time: wall-clock microseconds, a monotonic clock, and timers.

Policy code (linger, eviction deadlines, the synthetic feed) takes a `Clock` so tests drive
time by hand with `ManualClock` instead of sleeping; `sleep(clock, delay)` waits on it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now_us(self) -> int:
        """Wall-clock time, integer microseconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` once after `delay` seconds unless cancelled."""
        ...


async def sleep(clock: Clock, delay: float) -> None:
    """Wait `delay` seconds on `clock`'s timer, so a ManualClock's `advance` ends the wait."""
    woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not woken.done():
            woken.set_result(None)

    timer = clock.call_later(delay, wake)
    try:
        await woken
    finally:
        timer.cancel()


class LoopClock:
    """The real clock, with timers on the running asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    def now_us(self) -> int:
        return time.time_ns() // 1000

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        loop = self._loop or asyncio.get_running_loop()
        return loop.call_later(delay, callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to; due timers fire inside `advance`."""

    def __init__(self, start_us: int = 1_763_769_600_000_000) -> None:
        self._now_us = start_us
        self._mono = 0.0
        self._seq = itertools.count()
        self._timers: list[tuple[float, int, _ManualTimer]] = []

    def now_us(self) -> int:
        return self._now_us

    def monotonic(self) -> float:
        return self._mono

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(callback)
        heapq.heappush(self._timers, (self._mono + max(delay, 0.0), next(self._seq), timer))
        return timer

    @property
    def pending_timers(self) -> int:
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order at their own instants."""
        target = self._mono + seconds
        while self._timers and self._timers[0][0] <= target:
            due, _, timer = heapq.heappop(self._timers)
            self._set(due)
            if not timer.cancelled:
                timer.callback()
        self._set(target)

    def _set(self, mono: float) -> None:
        self._now_us += round((mono - self._mono) * 1_000_000)
        self._mono = mono
