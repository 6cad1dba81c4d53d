"""What gets spoken, and when: a bounded priority queue with a rate limit and de-duplication.
Plain code; time (monotonic seconds) is passed in.

- De-duplication: a text offered again within `dedup_s` of its last offer is dropped.
- Rate limit: at most one utterance per `min_gap_s`; the rest wait their turn.
- Order: higher priority first, then first come first served. When full, an offer of higher
  priority than the lowest queued one replaces it; otherwise the offer is dropped.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections import Counter

from servers.server_speak.rules import Alert


class Offer(enum.Enum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    FULL = "full"


class SpeechQueue:
    def __init__(self, *, min_gap_s: float = 2.0, dedup_s: float = 60.0, capacity: int = 32) -> None:
        if min_gap_s < 0 or dedup_s < 0 or capacity < 1:
            raise ValueError(
                f"need min_gap_s >= 0, dedup_s >= 0, capacity >= 1; got {min_gap_s}, {dedup_s}, {capacity}"
            )
        self.min_gap_s = min_gap_s
        self.dedup_s = dedup_s
        self.capacity = capacity
        self._heap: list[tuple[int, int, Alert]] = []
        self._seq = itertools.count()
        self._last_offered: dict[str, float] = {}
        self._last_spoken: float | None = None
        self.counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._heap)

    def offer(self, alert: Alert, now: float) -> Offer:
        self._forget(now)
        last = self._last_offered.get(alert.text)
        if last is not None and now - last < self.dedup_s:
            self.counts[Offer.DUPLICATE.value] += 1
            return Offer.DUPLICATE
        if len(self._heap) >= self.capacity:
            lowest = max(self._heap)  # lowest priority, newest
            if -lowest[0] >= alert.priority:
                self.counts[Offer.FULL.value] += 1
                return Offer.FULL
            self._heap.remove(lowest)
            heapq.heapify(self._heap)
            self.counts["replaced"] += 1
        self._last_offered[alert.text] = now
        heapq.heappush(self._heap, (-int(alert.priority), next(self._seq), alert))
        self.counts[Offer.QUEUED.value] += 1
        return Offer.QUEUED

    def wait_s(self, now: float) -> float | None:
        """Seconds until the next alert may be spoken; None when nothing is queued."""
        if not self._heap:
            return None
        if self._last_spoken is None:
            return 0.0
        return max(0.0, self._last_spoken + self.min_gap_s - now)

    def take(self, now: float) -> Alert | None:
        """The next alert if one is due now (and mark it spoken), else None."""
        wait = self.wait_s(now)
        if wait is None or wait > 0:
            return None
        self._last_spoken = now
        return heapq.heappop(self._heap)[2]

    def _forget(self, now: float) -> None:
        if len(self._last_offered) > 4 * self.capacity + 256:
            self._last_offered = {t: at for t, at in self._last_offered.items() if now - at < self.dedup_s}
