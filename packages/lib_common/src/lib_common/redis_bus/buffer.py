"""PublishBuffer: frames waiting for Redis, bounded; when full the oldest go first."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from lib_common.core.frame import Frame


class PublishBuffer:
    """A bounded FIFO of frames. Newest data matters most to live consumers, so overflow drops
    the oldest frames and counts them (`dropped`); the producer is never refused or slowed."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._frames: deque[Frame] = deque(maxlen=capacity)
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._frames)

    def extend(self, frames: Iterable[Frame]) -> int:
        """Append frames; returns how many were taken in (dropped ones included)."""
        frames_ = self._frames
        before = len(frames_)
        offered = 0
        for frame in frames:
            frames_.append(frame)  # deque(maxlen) drops from the left when full
            offered += 1
        dropped = before + offered - len(frames_)
        self.dropped += dropped
        return offered

    def take(self, most: int) -> list[Frame]:
        """Up to `most` of the oldest frames, removed from the buffer."""
        frames_ = self._frames
        if len(frames_) <= most:
            batch = list(frames_)
            frames_.clear()
            return batch
        return [frames_.popleft() for _ in range(most)]
