"""The feeds restream can serve from, behind one small interface.

A feed is an ingestor the Registry drives (`subscribe` / `unsubscribe`, `accepts`), with a
lifecycle (`start` / `stop`), a state for /health, and figures for /status and /metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from lib_common.clock import Clock
from lib_common.core.market_hours import KNOWN_CLOSURES, AlwaysOpen, MarketCalendar
from lib_common.core.quote import Quote
from lib_common.core.upstream_manager import Poller, Sink, Stream, Transition, UpstreamManager
from lib_common.core.upstream_policy import UpstreamPolicy
from lib_common.ingestors.synthetic import SyntheticFeed
from lib_common.ingestors.yahoo.streamer import YahooStreamer
from lib_common.ingestors.yahoo_chart import ChartPoller
from lib_common.ky_http import KyHttp
from servers.restream.config import FeedConfig

YAHOO_CHART_URL = "https://query2.finance.yahoo.com"
YAHOO_STREAMER_HOST = "streamer.finance.yahoo.com"


class Feed(Protocol):
    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...

    def accepts(self, symbol: str) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def state(self) -> str: ...

    def figures(self) -> dict[str, object]: ...


def chart_url_for(upstream_url: str) -> str:
    """Yahoo's chart host for Yahoo's streamer; for any other streamer (server_dummy), the same
    host over HTTP, which is where a stand-in serves its chart endpoint."""
    parts = urlsplit(upstream_url)
    if parts.hostname == YAHOO_STREAMER_HOST:
        return YAHOO_CHART_URL
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, parts.netloc, "", "", ""))


class YahooFeed:
    """Yahoo's streamer with the chart-polling fallback, conducted by the UpstreamManager."""

    def __init__(
        self,
        config: FeedConfig,
        sink: Callable[[list[Quote]], None],
        clock: Clock,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        self.http = KyHttp(timeout_s=config.http_timeout_s)
        chart_url = config.chart_url or chart_url_for(config.upstream_url)

        def make_stream(quotes: Sink) -> Stream:
            return YahooStreamer(
                quotes,
                clock=clock,
                url=config.upstream_url,
                per_connection=config.per_connection,
                inactivity_timeout_s=config.inactivity_timeout_s,
            )

        def make_poller(quotes: Sink) -> Poller:
            return ChartPoller(self.http, quotes, clock=clock, base_url=chart_url, interval_s=config.poll_interval_s)

        self.manager = UpstreamManager(
            sink,
            make_stream=make_stream,
            make_poller=make_poller,
            clock=clock,
            calendar=AlwaysOpen()
            if config.hours == "always"
            else MarketCalendar((*KNOWN_CLOSURES, *config.extra_closed)),
            policy=UpstreamPolicy(inactivity_s=config.inactivity_timeout_s, failover_after_s=config.failover_after_s),
            poll_interval_open_s=config.poll_interval_s,
            on_transition=on_transition,
        )

    def subscribe(self, symbols: list[str]) -> None:
        self.manager.subscribe(symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        self.manager.unsubscribe(symbols)

    def accepts(self, symbol: str) -> bool:
        return True

    async def start(self) -> None:
        await self.manager.start()

    async def stop(self) -> None:
        await self.manager.stop()
        await self.http.aclose()

    @property
    def state(self) -> str:
        return self.manager.state.value

    def figures(self) -> dict[str, object]:
        stream = self.manager.stream
        poller = self.manager.poller
        figures = self.manager.figures()
        if isinstance(stream, YahooStreamer):
            figures["stream"] = {
                "url": stream.url,
                "frames": stream.frames,
                "malformed": dict(stream.malformed),
                "connections": len(stream.health),
                "connects": sum(h.connects for h in stream.health.values()),
                "drops": sum(sum(h.drops.values()) for h in stream.health.values()),
            }
        if isinstance(poller, ChartPoller):
            figures["polling"] = {"polls": poller.polls, "quotes": poller.quotes, "errors": poller.errors}
        return figures


def build_feed(
    config: FeedConfig,
    sink: Callable[[list[Quote]], None],
    clock: Clock,
    on_transition: Callable[[Transition], None] | None = None,
) -> Feed:
    if config.kind == "yahoo":
        return YahooFeed(config, sink, clock, on_transition)
    return SyntheticFeed(sink, clock=clock, rate=config.rate, symbols=config.symbols)
