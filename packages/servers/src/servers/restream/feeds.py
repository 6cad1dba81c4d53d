"""The feeds restream can serve from, behind one small interface.

A feed is an ingestor the Registry drives (`subscribe` / `unsubscribe`), with a
lifecycle (`start` / `stop`), a state for /health, and figures for /status and /metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from lib_common.clock import Clock
from lib_common.core.frame import Frame
from lib_common.core.market_hours import KNOWN_CLOSURES, AlwaysOpen, MarketCalendar
from lib_common.core.ordering import TimeWindow
from lib_common.core.quote import Quote
from lib_common.core.symbol_hours import SymbolSessions
from lib_common.core.upstream_manager import Poller, Sink, Stream, Transition, UpstreamConductor, UpstreamManager
from lib_common.core.upstream_policy import UpstreamPolicy
from lib_common.ingestors.cnn import FEAR_GREED_SYMBOL, FearGreedPoller
from lib_common.ingestors.cnn.poller import GRAPHDATA_URL
from lib_common.ingestors.redis_feed import RedisFeed
from lib_common.ingestors.replay import ReplayFeed
from lib_common.ingestors.synthetic import SyntheticFeed
from lib_common.ingestors.yahoo.streamer import YahooStreamer
from lib_common.ingestors.yahoo_chart import ChartPoller
from lib_common.ky_http import KyHttp
from servers.kit.background import Background
from servers.restream.config import FeedConfig

YAHOO_CHART_URL = "https://query2.finance.yahoo.com"
YAHOO_STREAMER_HOST = "streamer.finance.yahoo.com"


class Feed(Protocol):
    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def state(self) -> str: ...

    def figures(self) -> dict[str, object]: ...


def _stand_in(upstream_url: str, path: str) -> str | None:
    """For a streamer that is not Yahoo's (server_dummy), the same host over HTTP: that is where
    a stand-in serves its HTTP endpoints. None for Yahoo's own streamer."""
    parts = urlsplit(upstream_url)
    if parts.hostname == YAHOO_STREAMER_HOST:
        return None
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def chart_url_for(upstream_url: str) -> str:
    return _stand_in(upstream_url, "") or YAHOO_CHART_URL


def fear_greed_url_for(upstream_url: str) -> str:
    return _stand_in(upstream_url, urlsplit(GRAPHDATA_URL).path) or GRAPHDATA_URL


class YahooFeed:
    """Yahoo's streamer with the chart-polling fallback, conducted by the UpstreamManager; and
    CNN's Fear & Greed index, which clients subscribe to as the symbol FEAR-GREED."""

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

        calendar = MarketCalendar((*KNOWN_CLOSURES, *config.extra_closed))
        window = TimeWindow(ahead_s=config.max_ahead_s, behind_s=config.max_behind_s)
        self.fear_greed = FearGreedPoller(
            self.http,
            sink,
            clock=clock,
            calendar=calendar,
            url=config.fear_greed_url or fear_greed_url_for(config.upstream_url),
            window=window,
        )
        self._fear_greed_task = Background(self.fear_greed.run, name="fear-greed")
        conductor = UpstreamConductor(
            sink,
            stream=make_stream,
            poller=make_poller,
            clock=clock,
            calendar=AlwaysOpen() if config.hours == "always" else calendar,
            symbol_hours=None if config.hours == "always" else SymbolSessions(calendar),
            policy=UpstreamPolicy(inactivity_s=config.inactivity_timeout_s, failover_after_s=config.failover_after_s),
            poll_interval_open_s=config.poll_interval_s,
            on_transition=on_transition,
            window=window,
        )
        self.manager = UpstreamManager(conductor)

    def subscribe(self, symbols: list[str]) -> None:
        self.fear_greed.subscribe([s for s in symbols if s == FEAR_GREED_SYMBOL])
        self.manager.subscribe([s for s in symbols if s != FEAR_GREED_SYMBOL])

    def unsubscribe(self, symbols: list[str]) -> None:
        self.fear_greed.unsubscribe([s for s in symbols if s == FEAR_GREED_SYMBOL])
        self.manager.unsubscribe([s for s in symbols if s != FEAR_GREED_SYMBOL])

    async def start(self) -> None:
        await self.manager.start()
        await self._fear_greed_task.start()

    async def stop(self) -> None:
        await self._fear_greed_task.stop()
        await self.manager.stop()
        await self.http.aclose()

    @property
    def state(self) -> str:
        return self.manager.state.value

    def outside_window(self) -> dict[str, int]:
        """Quotes dropped as dated outside the clock window, by side (stream, polling and Fear & Greed)."""
        (ahead, behind), (fg_ahead, fg_behind) = self.manager.conductor.outside_window, self.fear_greed.outside_window
        return {"ahead": ahead + fg_ahead, "behind": behind + fg_behind}

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
        fg = self.fear_greed
        figures["fear_greed"] = {
            "subscribed": fg.subscribed,
            "polls": fg.polls,
            "quotes": fg.quotes,
            "errors": fg.errors,
            "last_error": fg.last_error,
        }
        return figures


def build_feed(
    config: FeedConfig,
    sink: Callable[[list[Quote]], None],
    clock: Clock,
    on_transition: Callable[[Transition], None] | None = None,
    *,
    frames: Callable[[list[Frame]], None] | None = None,
    ready: Callable[[], bool] = lambda: True,
) -> Feed:
    """The feed the config names. A replay sends frames it builds itself (`frames`: a recording
    is already encoded) and at speed 0 waits while `ready()` is false (a client backlogged)."""
    if config.kind == "replay":
        assert frames is not None, "a replay needs a frame sink"
        replay = config.replay
        return ReplayFeed(
            replay.paths(),
            frames,
            clock=clock,
            speed=replay.speed,
            loop=replay.loop,
            max_gap_s=replay.max_gap_s,
            ready=ready,
            on_transition=on_transition,
        )
    if config.kind == "yahoo":
        return YahooFeed(config, sink, clock, on_transition)
    if config.kind == "redis":
        return RedisFeed.from_url(
            sink, config.redis_url, config.prefix, on_transition=on_transition, now_us=clock.now_us
        )
    return SyntheticFeed(sink, clock=clock, rate=config.rate, symbols=config.symbols)
