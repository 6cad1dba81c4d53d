"""What waits for Redis, and where: the publisher's policy as plain code (no I/O, no time).

Every frame offered gets the next sequence number of this publisher's epoch: its quote id
(`format.quote_id`), which the durable consumers dedupe on. Frames wait in memory (`capacity`
frames, `PublishBuffer`); when memory would overflow, its oldest frames go to the overflow
store (the on-disk spool, `spool.Spool`) while it has room, and only then are dropped: counted,
with the count and bytes of each outage's drops reported once (`drops_report`).

Order is kept, so that a publisher's seqs reach Redis in increasing order (resends apart):
everything in the spool is older than everything in memory, batches come from the spool
while it holds anything, and a batch stays where it was (in memory, or uncommitted in the
spool) until Redis has acknowledged it (`ack_memory`, `Overflow.commit`). A batch in flight
when the connection drops is simply taken again after the reconnect. Should memory overflow
while its batch is in flight, those frames go to the spool as well: they are sent again
later, which the consumers' dedupe makes harmless.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from lib_common.arguments import at_least
from lib_common.core.frame import Frame
from lib_common.redis_bus.format import quote_id

log = logging.getLogger(__name__)


class Outgoing(NamedTuple):
    """One frame on its way to Redis: what the spool stores and the link sends."""

    quote_id: bytes
    symbol: str
    payload: bytes


class Overflow(Protocol):
    """The store past memory (the spool): oldest first, bounded."""

    @property
    def empty(self) -> bool: ...

    def append(self, records: list[Outgoing]) -> int:
        """Store records at the end, in order; how many (from the first) fitted."""
        ...


class PublishBuffer:
    """A bounded FIFO of frames, each with its seq: the i-th held frame has seq
    `next_seq - len(self) + i`. Frames leave by `pop` (acknowledged) or by overflowing."""

    def __init__(self, capacity: int, epoch: bytes) -> None:
        at_least("capacity", capacity, 1)
        self.capacity = capacity
        self.epoch = epoch
        self._frames: deque[Frame] = deque()
        self.next_seq = 0

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def head_seq(self) -> int:
        return self.next_seq - len(self._frames)

    def extend(self, frames: Iterable[Frame]) -> tuple[int, list[Outgoing]]:
        """Append frames; (how many were offered, the oldest that no longer fit, as records)."""
        frames_ = self._frames
        before = len(frames_)
        frames_.extend(frames)
        offered = len(frames_) - before
        self.next_seq += offered
        over = len(frames_) - self.capacity
        if over <= 0:
            return offered, []
        first = self.head_seq
        return offered, self._records(first, [frames_.popleft() for _ in range(over)])

    def peek(self, most: int) -> tuple[list[Outgoing], int]:
        """Up to `most` of the oldest frames as records, left in place; and the seq after them."""
        first = self.head_seq
        batch = self._records(first, list(itertools.islice(self._frames, most)))
        return batch, first + len(batch)

    def pop(self, end_seq: int) -> None:
        """Remove the frames before `end_seq` that are still held (acknowledged by Redis)."""
        for _ in range(max(0, min(len(self._frames), end_seq - self.head_seq))):
            self._frames.popleft()

    def take_all(self) -> list[Outgoing]:
        records = self._records(self.head_seq, list(self._frames))
        self._frames.clear()
        return records

    def _records(self, first: int, frames: list[Frame]) -> list[Outgoing]:
        epoch = self.epoch
        return [Outgoing(quote_id(epoch, first + i), f.symbol or "", f.payload) for i, f in enumerate(frames)]


class PublishQueue:
    """Memory, then the spool (if any), then dropped; batches oldest first."""

    def __init__(self, capacity: int, epoch: bytes, spool: Overflow | None = None) -> None:
        self.memory = PublishBuffer(capacity, epoch)
        self.spool = spool
        self.spooled = 0  # frames that went to the spool
        self.dropped = 0  # frames neither memory nor the spool could hold
        self.dropped_bytes = 0
        self.spool_full = False  # the spool refused a frame and has not taken one since
        self._outage_dropped = 0
        self._outage_bytes = 0

    def offer(self, frames: Iterable[Frame]) -> int:
        offered, over = self.memory.extend(frames)
        if over:
            self._overflow(over)
        return offered

    def _overflow(self, records: list[Outgoing]) -> None:
        taken = self.spool.append(records) if self.spool is not None else 0
        self.spooled += taken
        lost = records[taken:]
        if not lost:
            self.spool_full = False
            return
        if self.spool is not None and not self.spool_full:
            self.spool_full = True
            log.warning("publish spool full: frames that do not fit in memory are dropped until Redis drains it")
        size = sum(len(r.payload) for r in lost)
        self.dropped += len(lost)
        self.dropped_bytes += size
        self._outage_dropped += len(lost)
        self._outage_bytes += size

    def from_spool(self) -> bool:
        """Whether the next batch comes from the spool (it holds the oldest frames)."""
        return self.spool is not None and not self.spool.empty

    def persist(self) -> int:
        """On stop: what memory holds goes to the spool (after what it has: newer); how many."""
        if self.spool is None or not len(self.memory):
            return 0
        before = self.spooled
        self._overflow(self.memory.take_all())
        return self.spooled - before

    def drops_report(self) -> tuple[int, int] | None:
        """(frames, bytes) dropped since the last report, logged once; None when nothing was."""
        if not self._outage_dropped:
            return None
        report = self._outage_dropped, self._outage_bytes
        self._outage_dropped = self._outage_bytes = 0
        where = "memory buffer and spool" if self.spool is not None else "memory buffer"
        log.warning("publish: %d frames (%d bytes) dropped: the %s were full", report[0], report[1], where)
        return report
