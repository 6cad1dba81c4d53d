"""Gateway: one restream process, a FanoutServer fed by a feed (synthetic, yahoo, redis, replay).

Runs the feed (and, on an ingest node, the Redis publisher), applies the tenant's and the
feed's rules to subscriptions, tells clients when the upstream changes state, and adds the
feed's figures to /health, /status and /metrics. No HTTP here.
"""

from __future__ import annotations

import logging
from collections import Counter

from lib_common.alerts import UpstreamAlerts
from lib_common.clock import Clock
from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.core.session import ClientSession
from lib_common.core.symbol_hours import SymbolSessions
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.ingestors.redis_feed import RedisFeed
from lib_common.ingestors.replay import ReplayFeed
from lib_common.metrics import Exposition, by_label
from lib_common.redis_bus.publisher import Publisher
from lib_common.redis_bus.spool import Spool
from servers.kit.config import Tenant
from servers.kit.process import Defer, FanoutServer
from servers.restream.config import PublishConfig, RestreamConfig
from servers.restream.feeds import YahooFeed, build_feed

log = logging.getLogger(__name__)

UPSTREAM_STATES = tuple(state.value for state in UpstreamState)
SESSIONS = SymbolSessions()  # crypto around the clock, others by the NYSE calendar


def build_publisher(config: PublishConfig) -> Publisher:
    from lib_common.redis_bus.links import connect_publish

    spool = Spool(config.spool_dir, config.spool_max_bytes) if config.spool_dir is not None else None
    return Publisher(
        lambda: connect_publish(config.redis_url, config.prefix, config.stream_maxlen),
        buffer=config.buffer,
        spool=spool,
    )


class Gateway(FanoutServer[RestreamConfig]):
    name = "restream"

    def __init__(self, config: RestreamConfig, clock: Clock | None = None, defer: Defer | None = None) -> None:
        super().__init__(config, self, clock=clock, defer=defer)
        # Yahoo's failover (stream -> reconnecting/polling) and recovery are alerted; a Redis
        # feed's outages are alerted by its subscriber's link (lib_common.alerts.link_hook).
        self.upstream_alerts = UpstreamAlerts("yahoo upstream") if config.feed.kind == "yahoo" else None
        self.feed = build_feed(
            config.feed,
            self._ingest,
            self.clock,
            self._upstream_changed,
            frames=self._ingest_frames,
            ready=self._clients_ready,
        )
        # A synthetic feed given its symbols serves only those; every other feed takes any symbol.
        fixed = config.feed.symbols if config.feed.kind == "synthetic" else None
        self.served = None if fixed is None else frozenset(fixed)
        # An ingest node: every dispatched quote frame also goes to Redis, the same bytes.
        self.publisher = build_publisher(config.publish) if config.publish.enabled else None
        # Quoted (and published) with or without local clients; never released upstream.
        self.pinned = frozenset(config.pinned_symbols)

    def _upstream_changed(self, transition: Transition) -> None:
        self.announce(transition)
        if self.upstream_alerts is not None:
            self.upstream_alerts(transition)

    # Lifecycle

    async def open(self) -> None:
        if self.publisher is not None:
            await self.publisher.start()
        await self.feed.start()
        if self.pinned:
            self.feed.subscribe(sorted(self.pinned))
        log.info("feed %s started: %s", self.config.feed.kind, self.feed.state)

    async def close(self) -> None:
        await self.feed.stop()
        if self.publisher is not None:
            await self.publisher.stop()

    def _ingest(self, quotes: list[Quote]) -> None:
        frames = self.dispatcher.publish(quotes)
        if self.publisher is not None:
            self.publisher.offer(frames)

    def _ingest_frames(self, frames: list[Frame]) -> None:
        """Frames a feed built itself (a replay), stamped ts_library_out as the dispatcher would."""
        # A batch's frames share their stamps (at speed 0 all of them): count each latency once.
        observe = self.dispatcher.latency_us.observe
        for latency, times in Counter([f.ts_library_out - f.ts_library_in for f in frames]).items():
            observe(latency, times)
        self.dispatcher.publish_frames(frames)
        if self.publisher is not None:
            self.publisher.offer(frames)

    def _clients_ready(self) -> bool:
        """No client is backlogged: a replay at full speed may send more without conflating any."""
        return not any(session.backlogged for session in self.dispatcher.sessions)

    @property
    def state(self) -> str:
        return self.feed.state if self.serving else "idle"

    # UpstreamControl, as the registry drives it

    def subscribe(self, symbols: list[str]) -> None:
        self.feed.subscribe([s for s in symbols if s not in self.pinned])

    def unsubscribe(self, symbols: list[str]) -> None:
        released = [s for s in symbols if s not in self.pinned]
        self.feed.unsubscribe(released)
        self.dispatcher.forget(released)

    # Sessions

    def subscribe_client(
        self, session: ClientSession, tenant: Tenant, symbols: tuple[str, ...]
    ) -> tuple[list[str], dict[str, str]]:
        """Subscribe what the tenant and the feed allow; returns (added, refused with reasons)."""
        refused: dict[str, str] = {}
        wanted: list[str] = []
        held = self.registry.symbols_of(session)
        limit = self.config.limits.max_per_client
        new = 0
        for symbol in symbols:
            if not tenant.allows(symbol):
                refused[symbol] = "not allowed for this tenant"
            elif self.served is not None and symbol not in self.served:
                refused[symbol] = "not served by this feed"
            elif symbol not in held and len(held) + new >= limit:
                refused[symbol] = f"limit of {limit} symbols per client"
            else:
                new += symbol not in held
                wanted.append(symbol)
        added = self.registry.subscribe(session, wanted, limit=limit)
        return added, refused

    # Figures

    def health(self) -> dict[str, object]:
        return {"status": "ok", "upstream": {"feed": self.config.feed.kind, "state": self.state}}

    def describe(self, core: dict[str, object]) -> dict[str, object]:
        d = self.dispatcher
        subscriptions = core.pop("upstream_subscriptions")
        assert isinstance(subscriptions, dict)
        return {
            **core,
            "upstream": {
                **self._sessions(),
                **self.feed.figures(),
                "feed": self.config.feed.kind,
                "state": self.state,
                **subscriptions,
            },
            "latency_us": {"p50_le": d.latency_us.quantile(0.5), "p99_le": d.latency_us.quantile(0.99)},
            **({"publish": self._publish_status()} if self.publisher is not None else {}),
        }

    def _sessions(self) -> dict[str, object]:
        """The session now (a yahoo feed's own figures say it too, from its hours config): the
        most open one among the subscribed symbols, and how many are in each. A replay's "now" is
        its position in the recording."""
        now = self.clock.now_us()
        if isinstance(self.feed, ReplayFeed) and self.feed.position_us is not None:
            now = self.feed.position_us
        symbols = self.registry.active
        return {"session": SESSIONS.session_at(now, symbols), "sessions": SESSIONS.summary(now, symbols)}

    def _publish_status(self) -> dict[str, object]:
        from lib_common.redis_bus.links import redacted

        assert self.publisher is not None
        publish = self.config.publish
        return {
            **self.publisher.figures(),
            "redis": redacted(publish.redis_url),
            "prefix": publish.prefix,
            "pinned_symbols": sorted(self.pinned),
        }

    def expose(self, out: Exposition) -> None:
        out.gauges(
            "restream_upstream_state",
            "1 for the state the upstream is in, 0 for the others.",
            (({"state": name}, int(name == self.state)) for name in UPSTREAM_STATES),
        )
        self.expose_transitions(out)
        out.histogram(
            "restream_dispatch_latency_seconds",
            "From receipt (ts_library_in) to dispatch (ts_library_out).",
            self.dispatcher.latency_us,
            scale=1e-6,
        )
        if self.publisher is not None:
            self._expose_publisher(out, self.publisher)
        if isinstance(self.feed, RedisFeed):
            self._expose_redis_feed(out, self.feed)
        if isinstance(self.feed, ReplayFeed):
            self._expose_replay(out, self.feed)
        if isinstance(self.feed, YahooFeed):
            out.counters(
                "restream_quotes_outside_clock_window_total",
                "Upstream quotes dropped as dated too far ahead of or behind the local clock (feed.max_ahead_s, "
                "feed.max_behind_s).",
                (({"side": side}, n) for side, n in self.feed.outside_window().items()),
            )

    @staticmethod
    def _expose_publisher(out: Exposition, p: Publisher) -> None:
        q = p.queue
        out.gauge("restream_publish_connected", "1 while the Redis publisher is connected.", int(p.connected))
        out.counter("restream_publish_frames_total", "Frames published to Redis (resends included).", p.published)
        out.counter(
            "restream_publish_resent_total",
            "Frames sent again after the connection dropped with them in flight (the consumers skip the copies).",
            p.resent,
        )
        out.counters(
            "restream_publish_dropped_total",
            "Frames never published: the memory buffer overflowed and the spool (if any) was full.",
            (({"reason": "overflow"}, q.dropped),),
        )
        out.counter("restream_publish_dropped_bytes_total", "Payload bytes of the dropped frames.", q.dropped_bytes)
        out.gauge("restream_publish_buffered", "Frames waiting for Redis in memory.", p.buffered)
        out.counter("restream_publish_reconnects_total", "Connections to Redis after the first.", p.reconnects)
        out.counter("restream_publish_errors_total", "Redis connection failures.", p.errors)
        spool = p.spool
        if spool is None:
            return
        out.gauge("restream_publish_spool_bytes", "Bytes the spool holds on disk.", spool.bytes)
        out.gauge(
            "restream_publish_spool_max_bytes", "The spool's size limit (publish.spool_max_bytes).", spool.max_bytes
        )
        out.gauge(
            "restream_publish_spool_full", "1 while the spool is full (frames are being dropped).", int(q.spool_full)
        )
        out.counter("restream_publish_spooled_frames_total", "Frames written to the spool.", spool.appended)
        out.counter("restream_publish_spooled_bytes_total", "Bytes written to the spool.", spool.appended_bytes)
        out.counter("restream_publish_spool_drained_total", "Frames sent to Redis from the spool.", spool.drained)
        out.counters(
            "restream_publish_spool_lost_total",
            "Spool damage found when reading it back: torn last records, and bytes of corrupt tails dropped.",
            (({"kind": "torn_records"}, spool.torn), ({"kind": "corrupt_bytes"}, spool.corrupt_bytes)),
        )

    @staticmethod
    def _expose_replay(out: Exposition, feed: ReplayFeed) -> None:
        out.counter("restream_replay_lines_total", "Recorded lines read.", feed.lines)
        out.counter("restream_replay_quotes_total", "Recorded quotes sent (subscribed symbols only).", feed.sent)
        out.counters(
            "restream_replay_bad_lines_total",
            "Recorded lines skipped as not quotes, by reason.",
            by_label("reason", feed.bad),
        )
        out.counter("restream_replay_passes_total", "Passes through the files completed.", feed.passes)

    @staticmethod
    def _expose_redis_feed(out: Exposition, feed: RedisFeed) -> None:
        sub = feed.subscriber
        out.gauge(
            "restream_redis_feed_connected", "1 while the Redis feed is connected.", int(feed.state == "connected")
        )
        out.counter("restream_redis_feed_messages_total", "Messages received from Redis.", sub.messages)
        out.counters(
            "restream_redis_feed_malformed_total",
            "Messages not in the shared quote format, by reason.",
            by_label("reason", feed.malformed),
        )
        out.counter("restream_redis_feed_reconnects_total", "Connections to Redis after the first.", sub.reconnects)
