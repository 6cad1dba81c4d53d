"""Publisher: every frame an ingest node dispatches, onto Redis, without ever slowing dispatch,
and without losing one while there is room to keep it.

`offer(frames)` is synchronous and O(frames): it appends to the memory buffer (and, when that
would overflow, moves its oldest frames to the on-disk spool if one is configured; only when
that is full too are frames dropped, counted and reported once per outage) and wakes a
background task. That task sends batches, the spool's first (the oldest frames), through a
`PublishLink` (one pipelined round trip per batch: PUBLISH and XADD per frame, the XADD
carrying the frame's quote id), and a batch leaves the buffer or the spool only once Redis has
answered for all of it. When the link fails the task backs off (the shared `Reconnect` policy:
exponential, full jitter), reconnects, and sends the same batch again: part of it may already
be in Redis, so a resend can duplicate a pub/sub message (clients de-duplicate) and a stream
entry (the durable consumers skip it by its quote id). The policy is `buffer.PublishQueue`'s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from lib_common.arguments import at_least
from lib_common.core.backoff import Backoff
from lib_common.core.frame import Frame
from lib_common.core.tasks import BackgroundTask
from lib_common.redis_bus.buffer import Outgoing, PublishQueue
from lib_common.redis_bus.reconnecting import Reconnecting
from lib_common.redis_bus.spool import Spool

log = logging.getLogger(__name__)

DEFAULT_BUFFER = 100_000
DEFAULT_BATCH = 1_000
SYNC_INTERVAL_S = 1.0  # the spool's fsync period (spool.py: at most this much is lost to a power cut)


class PublishLink(Protocol):
    """One connection's worth of publishing; raises BusUnavailable when Redis is gone (or
    BusReplyError when it refuses a command)."""

    async def send(self, frames: Sequence[Outgoing]) -> None: ...

    async def close(self) -> None: ...


def new_epoch() -> bytes:
    """A name for one publisher's run: 12 random hex digits (quote ids are EPOCH:SEQ)."""
    return os.urandom(6).hex().encode()


class Publisher(Reconnecting[PublishLink]):
    def __init__(
        self,
        connect: Callable[[], Awaitable[PublishLink]],
        *,
        buffer: int = DEFAULT_BUFFER,
        batch: int = DEFAULT_BATCH,
        spool: Spool | None = None,
        epoch: bytes | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        at_least("batch", batch, 1)
        super().__init__(connect, name="redis publisher", backoff=backoff, sleep=sleep, monotonic=monotonic)
        self.spool = spool
        self.queue = PublishQueue(buffer, epoch or new_epoch(), spool)
        self.batch = batch
        self._wake = asyncio.Event()
        self._failed: int | None = None  # frames of the batch whose round trip failed, sent again next
        self._syncer = BackgroundTask(self._sync_loop, name="publish spool sync")
        # Figures for /status and /metrics.
        self.offered = 0
        self.published = 0
        self.resent = 0

    # The dispatch path's side: synchronous, never waits

    def offer(self, frames: Iterable[Frame]) -> None:
        self.offered += self.queue.offer(frames)
        if not self._wake.is_set():
            self._wake.set()

    # Lifecycle

    async def start(self) -> None:
        if self.spool is not None:
            await asyncio.to_thread(self.spool.open)
            if not self.spool.empty:
                self._wake.set()
            await self._syncer.start()
        await super().start()

    async def stop(self) -> None:
        """Stop sending; with a spool, what memory still holds is written to it (for the next run)."""
        await super().stop()
        self.queue.drops_report()
        if self.spool is not None:
            await self._syncer.stop()
            kept = self.queue.persist()
            if kept:
                log.info("publish: %d frames not yet in Redis kept in the spool for the next run", kept)
            await self.spool.close()

    async def _sync_loop(self) -> None:
        assert self.spool is not None
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            await self.spool.sync()

    # The link's side

    async def _serve(self, link: PublishLink) -> None:
        self.queue.drops_report()  # an outage (if any) is over: one line for what it cost
        queue = self.queue
        while True:
            if queue.from_spool():
                assert self.spool is not None
                batch = await self.spool.read(self.batch)
                if batch:
                    await self._send(link, batch, self.spool.rewind)
                    self.spool.commit()
                continue
            records, end_seq = queue.memory.peek(self.batch)
            if not records:
                queue.drops_report()  # caught up: report what a slow Redis cost, if anything
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._send(link, records, _nothing)
            queue.memory.pop(end_seq)

    async def _send(self, link: PublishLink, batch: list[Outgoing], undo: Callable[[], None]) -> None:
        try:
            await link.send(batch)
        except BaseException:
            undo()
            self._failed = len(batch)
            raise
        if self._failed is not None:
            self.resent += min(self._failed, len(batch))
            self._failed = None
        self.published += len(batch)

    # Figures

    @property
    def buffered(self) -> int:
        return len(self.queue.memory)

    @property
    def dropped(self) -> int:
        return self.queue.dropped

    def figures(self) -> dict[str, object]:
        q = self.queue
        spool = self.spool.figures() if self.spool is not None else None
        return {
            **self.link_figures(),
            "published": self.published,
            "resent": self.resent,
            "dropped": q.dropped,
            "dropped_overflow": q.dropped,  # the one reason left (nothing is dropped in flight now)
            "dropped_bytes": q.dropped_bytes,
            "buffered": self.buffered,
            "buffer_capacity": q.memory.capacity,
            **({"spool": {**spool, "spooled": q.spooled, "full": q.spool_full}} if spool is not None else {}),
        }


def _nothing() -> None:
    return None
