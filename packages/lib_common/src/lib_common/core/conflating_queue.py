"""A bounded per-client frame queue that conflates by symbol when full.

Latest-value semantics (as Lightstreamer-style gateways do): a slow client may miss
intermediate quotes, never the newest one of a symbol, and never sees a symbol's quotes out
of order. Control frames (symbol None) are never replaced.

When full:
- a frame whose symbol is queued replaces the newest queued frame of that symbol, in place;
- any other frame makes room by dropping the oldest frame of the symbol with the most queued
  frames (that symbol keeps a newer one);
- when no symbol has two frames queued there is nothing left to conflate: the frame is queued
  beyond capacity (`overflowing`), so the caller can give up on the client.

Cost: this is the path every frame for a backlogged client takes, so the common case is a
deque append and pop. The per-symbol index that conflation needs (absolute positions of each
symbol's queued frames) is built only when a push finds the queue full, kept while frames are
queued, and dropped when the queue empties. Positions are absolute (`_head` is the position of
the deque's first item); a conflated-away frame leaves None in its place.

Memory: every client has a queue and most never queue a frame (a client that keeps up is
written to directly), so the deque (~760 bytes even empty: CPython allocates a 64-slot block)
is made by the first push and let go when the queue empties; until then the queue shares one
empty deque that nothing appends to.
"""

from __future__ import annotations

from collections import deque

from lib_common.arguments import at_least
from lib_common.core.frame import Frame

_UNUSED: deque[Frame | None] = deque()  # the items of every empty queue; only read, never appended to


class ConflatingQueue:
    __slots__ = ("_bytes", "_head", "_index", "_items", "_live", "capacity", "conflated")

    def __init__(self, capacity: int) -> None:
        at_least("capacity", capacity, 1)
        self.capacity = capacity
        self.conflated = 0  # frames replaced or dropped, over the queue's life
        self._items = _UNUSED
        self._head = 0  # absolute position of _items[0]
        self._index: dict[str, deque[int]] | None = None  # symbol → positions, oldest first
        self._live = 0
        self._bytes = 0

    def __len__(self) -> int:
        return self._live

    @property
    def nbytes(self) -> int:
        """Bytes of the frames queued now."""
        return self._bytes

    @property
    def full(self) -> bool:
        """The next push conflates (or overflows)."""
        return self._live >= self.capacity

    @property
    def overflowing(self) -> bool:
        """Queued beyond capacity: a push found nothing left to conflate."""
        return self._live > self.capacity

    def push(self, frame: Frame) -> int:
        """Queue `frame`; returns the change of the queued byte count (negative when a bigger
        frame left)."""
        size = len(frame.wire)
        items = self._items
        if items is _UNUSED:
            items = self._items = deque()
        if self._live < self.capacity:
            if self._index is not None:
                self._note(frame.symbol)
            items.append(frame)
            self._live += 1
            self._bytes += size
            return size
        index = self._index if self._index is not None else self._build_index()
        symbol = frame.symbol
        same = index.get(symbol) if symbol is not None else None
        if same:  # replace the newest queued frame of the symbol, in place
            at = same[-1] - self._head
            old = items[at]
            assert old is not None
            items[at] = frame
            self.conflated += 1
            delta = size - len(old.wire)
            self._bytes += delta
            return delta
        freed = self._collapse(index)
        self._note(symbol)
        items.append(frame)
        self._live += 1
        self._bytes += size
        return size - freed

    def pop_wire(self, max_bytes: int) -> tuple[list[bytes], int]:
        """Dequeue frames in order until `max_bytes` of wire data are taken (at least one frame).

        Returns the wire bytes of each frame and the number of queued bytes released.
        """
        out: list[bytes] = []
        released = 0
        items = self._items
        index = self._index
        popped = 0
        while items and (released < max_bytes or not out):
            frame = items.popleft()
            popped += 1
            if frame is None:  # conflated away
                continue
            if index is not None and frame.symbol is not None:
                same = index[frame.symbol]
                same.popleft()
                if not same:
                    del index[frame.symbol]
            wire = frame.wire
            out.append(wire)
            released += len(wire)
        self._head += popped
        self._live -= len(out)
        self._bytes -= released
        if not self._live:
            self._reset()
        return out, released

    def clear(self) -> int:
        """Drop everything; returns the bytes released."""
        released = self._bytes
        self._reset()
        return released

    def _reset(self) -> None:
        self._items = _UNUSED
        self._head = 0
        self._index = None
        self._live = 0
        self._bytes = 0

    def _note(self, symbol: str | None) -> None:
        """Index the frame about to be appended."""
        assert self._index is not None
        if symbol is not None:
            position = self._head + len(self._items)
            same = self._index.get(symbol)
            if same is None:
                self._index[symbol] = deque((position,))
            else:
                same.append(position)

    def _build_index(self) -> dict[str, deque[int]]:
        index: dict[str, deque[int]] = {}
        for position, frame in enumerate(self._items, self._head):
            if frame is not None and frame.symbol is not None:
                same = index.get(frame.symbol)
                if same is None:
                    index[frame.symbol] = deque((position,))
                else:
                    same.append(position)
        self._index = index
        return index

    def _collapse(self, index: dict[str, deque[int]]) -> int:
        """Drop the oldest frame of the most-queued symbol; 0 bytes freed when none has two."""
        if not index:
            return 0
        same = max(index.values(), key=len)
        if len(same) < 2:
            return 0
        at = same.popleft() - self._head
        old = self._items[at]
        assert old is not None
        self._items[at] = None
        self.conflated += 1
        self._live -= 1
        freed = len(old.wire)
        self._bytes -= freed
        # Dead items at the head would otherwise linger until popped.
        items = self._items
        while items and items[0] is None:
            items.popleft()
            self._head += 1
        return freed
