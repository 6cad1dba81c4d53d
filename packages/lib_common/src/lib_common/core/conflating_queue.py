"""A bounded per-client frame queue that conflates by symbol when full.

Latest-value semantics (as Lightstreamer-style gateways do): a slow client may miss
intermediate quotes, never the newest one of a symbol, and never sees a symbol's quotes out
of order. Control frames (symbol None) are never replaced.

When full:
- a frame whose symbol is queued replaces the newest queued frame of that symbol, in place;
- any other frame makes room by dropping the oldest frame of the symbol with the most queued
  frames (that symbol keeps a newer one);
- when no symbol has two frames queued there is nothing left to conflate: the frame is queued
  beyond capacity and the push reports overflow, so the caller can give up on the client.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from lib_common.core.frame import Frame


class _Slot:
    __slots__ = ("frame",)

    def __init__(self, frame: Frame | None) -> None:
        self.frame = frame


@dataclass(frozen=True, slots=True)
class PushResult:
    delta_bytes: int  # change of the queued byte count, negative when a bigger frame left
    conflated: int  # frames dropped or replaced by this push
    overflow: bool  # queued beyond capacity: nothing was left to conflate


class ConflatingQueue:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._slots: deque[_Slot] = deque()
        self._by_symbol: dict[str, deque[_Slot]] = {}
        self._live = 0
        self._bytes = 0

    def __len__(self) -> int:
        return self._live

    @property
    def nbytes(self) -> int:
        """Bytes of the frames queued now."""
        return self._bytes

    def push(self, frame: Frame) -> PushResult:
        symbol = frame.symbol
        if self._live >= self.capacity:
            if symbol is not None and symbol in self._by_symbol:
                slot = self._by_symbol[symbol][-1]
                assert slot.frame is not None
                delta = frame.size - slot.frame.size
                slot.frame = frame
                self._bytes += delta
                return PushResult(delta, 1, False)
            freed = self._collapse()
            if freed < 0:
                self._append(frame)
                return PushResult(frame.size, 0, True)
            self._append(frame)
            return PushResult(frame.size - freed, 1, False)
        self._append(frame)
        return PushResult(frame.size, 0, False)

    def pop_wire(self, max_bytes: int) -> tuple[list[bytes], int]:
        """Dequeue frames in order until `max_bytes` of wire data are taken (at least one frame).

        Returns the wire bytes of each frame and the number of queued bytes released.
        """
        out: list[bytes] = []
        released = 0
        slots = self._slots
        while slots and (released < max_bytes or not out):
            slot = slots.popleft()
            frame = slot.frame
            if frame is None:  # dropped by _collapse
                continue
            if frame.symbol is not None:
                same = self._by_symbol[frame.symbol]
                same.popleft()
                if not same:
                    del self._by_symbol[frame.symbol]
            out.append(frame.wire)
            released += frame.size
        self._live -= len(out)
        self._bytes -= released
        return out, released

    def clear(self) -> int:
        """Drop everything; returns the bytes released."""
        released = self._bytes
        self._slots.clear()
        self._by_symbol.clear()
        self._live = 0
        self._bytes = 0
        return released

    def _append(self, frame: Frame) -> None:
        slot = _Slot(frame)
        self._slots.append(slot)
        if frame.symbol is not None:
            same = self._by_symbol.get(frame.symbol)
            if same is None:
                same = self._by_symbol[frame.symbol] = deque()
            same.append(slot)
        self._live += 1
        self._bytes += frame.size

    def _collapse(self) -> int:
        """Drop the oldest frame of the most-queued symbol; -1 when none has two."""
        if not self._by_symbol:
            return -1
        same = max(self._by_symbol.values(), key=len)
        if len(same) < 2:
            return -1
        slot = same.popleft()
        assert slot.frame is not None
        freed = slot.frame.size
        slot.frame = None
        self._live -= 1
        self._bytes -= freed
        # Dead slots at the head would otherwise linger until popped.
        while self._slots and self._slots[0].frame is None:
            self._slots.popleft()
        return freed
