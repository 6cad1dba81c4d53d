"""The proxy's core: one upstream streamer, many Yahoo-protocol clients.

Upstream frames are relayed unchanged: each is decoded only to learn its symbol, then written
as it came to the clients subscribed to that symbol (one pre-built WebSocket frame for all of
them). The Registry holds one upstream subscription per symbol whatever the number of clients,
with a linger, so a yfinance client that re-sends its set every 15 s, or reconnects, costs no
upstream churn.
"""

from __future__ import annotations

import time
from collections import Counter

from lib_common.clock import Clock, LoopClock
from lib_common.core.fanout import Fanout
from lib_common.core.frame import Frame
from lib_common.core.wsframe import text_frame
from lib_common.ingestors.yahoo.normalise import decode_frame
from lib_common.ingestors.yahoo.streamer import YahooStreamer
from lib_common.metrics import Exposition
from servers.server_yahoo.config import ProxyConfig


def relay_frame(message: str | bytes, ts_library_in: int) -> Frame:
    """The upstream frame as it came, keyed by the symbol inside it (FrameError if none)."""
    symbol = decode_frame(message, ts_library_in).symbol
    payload = message.encode() if isinstance(message, str) else message
    return Frame(symbol, payload, text_frame(payload), ts_library_in=ts_library_in)


class Proxy:
    def __init__(self, config: ProxyConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or LoopClock()
        self.streamer: YahooStreamer[Frame] = YahooStreamer(
            self._relay,
            clock=self.clock,
            decode=relay_frame,
            url=config.upstream_url,
            per_connection=config.per_connection,
            inactivity_timeout_s=config.inactivity_timeout_s,
        )
        self.fanout = Fanout(
            self.streamer,
            self.clock,
            linger_s=config.linger_s,
            budget_bytes=config.budget_bytes,
            stall_timeout_s=config.stall_timeout_s,
        )
        self.bad_requests: Counter[str] = Counter()
        self._started = time.monotonic()
        self.serving = False

    def _relay(self, frames: list[Frame]) -> None:
        self.fanout.dispatcher.publish_frames(frames)

    async def start(self) -> None:
        await self.streamer.start()
        self.fanout.start()
        self.serving = True

    async def stop(self) -> None:
        self.serving = False
        await self.streamer.stop()
        self.fanout.stop()

    def status(self) -> dict[str, object]:
        stream = self.streamer.status()
        return {
            "uptime_s": round(time.monotonic() - self._started, 3),
            **self.fanout.status(),
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

    def metrics(self) -> str:
        out = Exposition()
        self.fanout.expose(out, "server_yahoo")
        out.gauge(
            "server_yahoo_upstream_connected",
            "1 while every upstream connection is up.",
            int(self.streamer.status().connected),
        )
        out.counter("server_yahoo_upstream_frames_total", "Frames received from upstream.", self.streamer.frames)
        out.counters(
            "server_yahoo_upstream_malformed_total",
            "Upstream frames that could not be decoded, by kind.",
            (({"kind": kind}, n) for kind, n in sorted(self.streamer.malformed.items())),
        )
        out.counters(
            "server_yahoo_bad_requests_total",
            "Client messages that were not Yahoo subscribe/unsubscribe requests.",
            (({"kind": kind}, n) for kind, n in sorted(self.bad_requests.items())),
        )
        return out.render()
