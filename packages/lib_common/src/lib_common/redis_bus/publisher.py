"""Publisher: every frame an ingest node dispatches, onto Redis, without ever slowing dispatch.

`offer(frames)` is synchronous and O(frames): it appends to a bounded buffer (the oldest frames
are dropped, and counted, when Redis cannot keep up or is away) and wakes a background task.
That task sends the buffer in batches through a `PublishLink` (one pipelined round trip per
batch: PUBLISH and XADD per frame), and when the link fails it backs off (the shared
`Reconnect` policy: exponential, full jitter) and reconnects. A batch in flight when the
connection drops is counted as dropped: resending it could duplicate stream entries that did
reach Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from lib_common.core.backoff import Backoff
from lib_common.core.frame import Frame
from lib_common.redis_bus.buffer import PublishBuffer
from lib_common.redis_bus.reconnecting import LINK_ERRORS, Reconnecting

DEFAULT_BUFFER = 100_000
DEFAULT_BATCH = 1_000


class PublishLink(Protocol):
    """One connection's worth of publishing; raises BusUnavailable when Redis is gone (or
    BusReplyError when it refuses a command)."""

    async def send(self, frames: Sequence[Frame]) -> None: ...

    async def close(self) -> None: ...


class Publisher(Reconnecting[PublishLink]):
    def __init__(
        self,
        connect: Callable[[], Awaitable[PublishLink]],
        *,
        buffer: int = DEFAULT_BUFFER,
        batch: int = DEFAULT_BATCH,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        super().__init__(connect, name="redis publisher", backoff=backoff, sleep=sleep, monotonic=monotonic)
        self._buffer = PublishBuffer(buffer)
        self.batch = batch
        self._wake = asyncio.Event()
        # Figures for /status and /metrics.
        self.offered = 0
        self.published = 0
        self.dropped_in_flight = 0

    # The dispatch path's side: synchronous, never waits

    def offer(self, frames: Iterable[Frame]) -> None:
        self.offered += self._buffer.extend(frames)
        if not self._wake.is_set():
            self._wake.set()

    async def _serve(self, link: PublishLink) -> None:
        buffer = self._buffer
        while True:
            if not len(buffer):
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = buffer.take(self.batch)
            try:
                await link.send(batch)
            except LINK_ERRORS:
                self.dropped_in_flight += len(batch)
                raise
            self.published += len(batch)

    # Figures

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def dropped_overflow(self) -> int:
        return self._buffer.dropped

    @property
    def dropped(self) -> int:
        return self._buffer.dropped + self.dropped_in_flight

    def figures(self) -> dict[str, object]:
        return {
            **self.link_figures(),
            "published": self.published,
            "dropped": self.dropped,
            "dropped_overflow": self.dropped_overflow,
            "dropped_in_flight": self.dropped_in_flight,
            "buffered": self.buffered,
            "buffer_capacity": self._buffer.capacity,
        }
