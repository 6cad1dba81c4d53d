"""Proxy: one server_yahoo process, a FanoutServer fed by one upstream streamer.

Upstream frames are relayed unchanged: each is decoded only to learn its symbol, then written
as it came to the clients subscribed to that symbol (one pre-built WebSocket frame for all of
them). The Registry holds one upstream subscription per symbol whatever the number of clients,
with a linger, so a yfinance client that re-sends its set every 15 s, or reconnects, costs no
upstream churn.
"""

from __future__ import annotations

from collections import Counter

from lib_common.clock import Clock, LoopClock
from lib_common.core.frame import Frame
from lib_common.core.wsframe import text_frame
from lib_common.ingestors.yahoo.normalise import decode_frame
from lib_common.ingestors.yahoo.streamer import YahooStreamer
from lib_common.metrics import Exposition, by_label
from servers.kit.process import FanoutServer
from servers.server_yahoo.config import ProxyConfig


def relay_frame(message: str | bytes, ts_library_in: int) -> Frame:
    """The upstream frame as it came, keyed by the symbol inside it (FrameError if none)."""
    symbol = decode_frame(message, ts_library_in).symbol
    payload = message.encode() if isinstance(message, str) else message
    return Frame(symbol, payload, text_frame(payload), ts_library_in=ts_library_in)


class Proxy(FanoutServer[ProxyConfig]):
    name = "server_yahoo"

    def __init__(self, config: ProxyConfig, clock: Clock | None = None) -> None:
        clock = clock or LoopClock()
        self.streamer: YahooStreamer[Frame] = YahooStreamer(
            self._relay,
            clock=clock,
            decode=relay_frame,
            url=config.upstream_url,
            per_connection=config.per_connection,
            inactivity_timeout_s=config.inactivity_timeout_s,
        )
        super().__init__(config, self.streamer, clock=clock)
        self.bad_requests: Counter[str] = Counter()

    def _relay(self, frames: list[Frame]) -> None:
        self.dispatcher.publish_frames(frames)

    async def open(self) -> None:
        await self.streamer.start()

    async def close(self) -> None:
        await self.streamer.stop()

    def health(self) -> dict[str, object]:
        return {**super().health(), "upstream_connected": self.streamer.status().connected}

    def describe(self, core: dict[str, object]) -> dict[str, object]:
        stream = self.streamer.status()
        return {
            **core,
            "upstream": {
                "url": self.config.upstream_url,
                "connected": stream.connected,
                "receiving": stream.receiving,
                "silence_s": stream.silence_s,
                "frames": self.streamer.frames,
                "malformed": dict(self.streamer.malformed),
                "connections": len(self.streamer.health),
                "connects": sum(h.connects for h in self.streamer.health.values()),
            },
            "bad_requests": dict(self.bad_requests),
        }

    def expose(self, out: Exposition) -> None:
        out.gauge(
            "server_yahoo_upstream_connected",
            "1 while every upstream connection is up.",
            int(self.streamer.status().connected),
        )
        out.counter("server_yahoo_upstream_frames_total", "Frames received from upstream.", self.streamer.frames)
        by_kind = (
            ("upstream_malformed", "Upstream frames that could not be decoded", self.streamer.malformed),
            ("bad_requests", "Client messages that were not Yahoo subscribe/unsubscribe requests", self.bad_requests),
        )
        for name, description, counts in by_kind:
            out.counters(f"server_yahoo_{name}_total", f"{description}, by kind.", by_label("kind", counts))
