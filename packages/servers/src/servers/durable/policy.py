"""The consumer's rules, with no sockets: what to read next, when a lag deserves a warning,
and how fast rows go out.

Reading: a consumer first works off its own pending entries list (PEL), the entries delivered
to it before a crash or a disconnect and never acked (XREADGROUP from id 0, moving the cursor
past each batch), and only then reads new entries (`>`). Every reconnect goes back to the PEL,
because an ack may have been lost with the connection.
"""

from __future__ import annotations

import enum
import logging
from collections import deque

log = logging.getLogger(__name__)

NEW_ENTRIES = ">"


class Phase(enum.Enum):
    RECOVERING = "recovering"  # re-reading this consumer's pending entries
    LIVE = "live"  # reading entries never delivered before


class ReadCursor:
    """Which id the next XREADGROUP asks for, and whether what it returns is a redelivery."""

    def __init__(self) -> None:
        self.phase = Phase.RECOVERING
        self._after = "0"

    def restart(self) -> None:
        """After a reconnect: the PEL again, from its start."""
        self._enter(Phase.RECOVERING)
        self._after = "0"

    def next_id(self) -> str:
        return self._after if self.phase is Phase.RECOVERING else NEW_ENTRIES

    @property
    def redelivering(self) -> bool:
        return self.phase is Phase.RECOVERING

    def delivered(self, ids: list[str]) -> None:
        """A read returned `ids` (in stream order); an empty PEL read ends recovery."""
        if self.phase is Phase.RECOVERING:
            if ids:
                self._after = ids[-1]
            else:
                self._enter(Phase.LIVE)

    def _enter(self, phase: Phase) -> None:
        if phase is not self.phase:
            log.info("read phase %s -> %s", self.phase.value, phase.value)
            self.phase = phase


class LagMonitor:
    """Warns when the group's lag nears what the stream retains: past that, the publisher's
    MAXLEN trimming drops entries this consumer has not read.

    `retention` is the configured cap, or (0) the stream's current length, which equals the cap
    once a capped stream is full.
    """

    def __init__(self, warn_ratio: float, retention_entries: int = 0) -> None:
        self.warn_ratio = warn_ratio
        self.retention_entries = retention_entries
        self.lag: int | None = None
        self.pending = 0
        self.length = 0
        self.warning = False
        self.warnings = 0

    @property
    def retention(self) -> int:
        return self.retention_entries or self.length

    @property
    def ratio(self) -> float:
        if not self.lag or not self.retention:
            return 0.0
        return self.lag / self.retention

    def update(self, lag: int | None, pending: int, length: int) -> bool:
        """Record a reading; True when this reading starts a warning."""
        self.lag, self.pending, self.length = lag, pending, length
        warning = self.ratio >= self.warn_ratio
        started = warning and not self.warning
        if started:
            self.warnings += 1
            log.warning(
                "lag %s entries is %.0f%% of the stream's retention (%d): unread entries may be trimmed",
                lag,
                100 * self.ratio,
                self.retention,
            )
        elif self.warning and not warning:
            log.info("lag %s entries is back under %.0f%% of retention", lag, 100 * self.warn_ratio)
        self.warning = warning
        return started


class RateMeter:
    """Rows per second over a sliding window of (monotonic time, running total) samples."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self.total = 0
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, rows: int) -> None:
        self.total += rows
        self._samples.append((now, self.total))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    def rate(self, now: float) -> float:
        if not self._samples:
            return 0.0
        start, first = self._samples[0]
        if now - start <= 0:
            return 0.0
        return (self.total - first) / (now - start)
