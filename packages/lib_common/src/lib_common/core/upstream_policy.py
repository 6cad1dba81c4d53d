"""When to stream, when to poll: the upstream manager's decisions as a plain function.

    IDLE          nobody wants a symbol: no stream, no polling
    STREAMING     the stream delivers (or is connected and quiet while the market is closed)
    RECONNECTING  the stream dropped and is coming back; polling would only duplicate it
    POLLING       the stream stayed down past `failover_after_s`, or went silent past
                  `inactivity_s` while the market is open: the polling fallback serves quotes
                  and the stream keeps trying in the background

A quiet stream outside market hours is expected, not a failure: it neither reconnects
needlessly nor fails over (the caller also stretches its timeouts and poll interval then).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lib_common.core.quote import MarketHours


class UpstreamState(enum.Enum):
    IDLE = "idle"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    POLLING = "polling"


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """What the stream looks like now, over every connection that carries symbols."""

    connected: bool  # every connection is up
    receiving: bool  # every connection has delivered a frame since it (re)connected
    silence_s: float | None  # longest time any connection went without a frame, across reconnects
    down_s: float | None  # longest time any connection has been down (None: all up)


@dataclass(frozen=True, slots=True)
class UpstreamPolicy:
    inactivity_s: float = 30.0
    failover_after_s: float = 10.0

    def decide(
        self, current: UpstreamState, *, wanted: bool, session: MarketHours, stream: StreamStatus
    ) -> tuple[UpstreamState, str]:
        """The state the upstream should be in, and why (for logs and status frames)."""
        if not wanted:
            return UpstreamState.IDLE, "no symbols subscribed"
        market_open = session != "closed"
        silence = stream.silence_s or 0.0
        if stream.connected and stream.receiving and silence <= self.inactivity_s:
            return UpstreamState.STREAMING, "stream delivering"
        if current is UpstreamState.POLLING:
            # Leave polling only on data: a stalled upstream accepts reconnects and stays mute.
            return UpstreamState.POLLING, "stream not delivering yet"
        if stream.connected:
            if silence <= self.inactivity_s:
                return UpstreamState.STREAMING, "stream connected"
            if not market_open:
                return UpstreamState.STREAMING, "stream quiet: market closed"
            return UpstreamState.POLLING, f"stream silent for {silence:.1f}s"
        if market_open and silence > self.inactivity_s:
            return UpstreamState.POLLING, f"stream down, silent for {silence:.1f}s"
        down = stream.down_s or 0.0
        if down < self.failover_after_s:
            return UpstreamState.RECONNECTING, f"stream down for {down:.1f}s"
        return UpstreamState.POLLING, f"stream down for {down:.1f}s"
