"""Bridge: one redis2ws process, a FanoutServer fed by Redis pub/sub.

The same Fanout as restream: the Registry's keys are channel names (and, for pattern
subscriptions, `PATTERN_KEY + pattern`), so one Redis SUBSCRIBE (or PSUBSCRIBE) serves every
client that wants it, with a linger before the UNSUBSCRIBE; each message is encoded once into a
frame conflated by its channel. No HTTP here.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

from lib_common.clock import Clock
from lib_common.core.frame import Frame
from lib_common.core.session import ClientSession
from lib_common.metrics import Exposition
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink, Subscriber
from lib_common.redis_bus.urls import is_cluster_url
from servers.kit.config import Tenant
from servers.kit.process import Defer, FanoutServer
from servers.kit.session import send_error
from servers.redis2ws.config import BridgeConfig, allows_pattern
from servers.redis2ws.protocol import PATTERN_KEY, message_frame, pattern_key


def _split(keys: list[str]) -> tuple[list[str], list[str]]:
    channels = [k for k in keys if not k.startswith(PATTERN_KEY)]
    patterns = [k[len(PATTERN_KEY) :] for k in keys if k.startswith(PATTERN_KEY)]
    return channels, patterns


def _route(keys: list[str], on_channels: Callable[[list[str]], None], on_patterns: Callable[[list[str]], None]) -> None:
    """Registry keys to the Subscriber: the channels to `on_channels`, the patterns to
    `on_patterns`; none of either, no call."""
    channels, patterns = _split(keys)
    if channels:
        on_channels(channels)
    if patterns:
        on_patterns(patterns)


class Bridge(FanoutServer[BridgeConfig]):
    name = "redis2ws"

    def __init__(
        self,
        config: BridgeConfig,
        clock: Clock | None = None,
        *,
        connect: Callable[[], Awaitable[PubSubLink]] | None = None,
        defer: Defer | None = None,
    ) -> None:
        from lib_common.redis_bus.links import connect_pubsub, redacted

        super().__init__(config, self, clock=clock, defer=defer)
        self.redis = redacted(config.redis_url)
        # Sharded pub/sub has no patterns (SPUBLISH reaches no PSUBSCRIBE): refused on a cluster.
        self.patterns_refused = is_cluster_url(config.redis_url)
        self.subscriber = Subscriber(
            connect or (lambda: connect_pubsub(config.redis_url)),
            self._relay,
            name="redis2ws",
            on_transition=self.announce,
            now_us=self.clock.now_us,
        )

    async def open(self) -> None:
        await self.subscriber.start()

    async def close(self) -> None:
        await self.subscriber.stop()

    def _relay(self, messages: list[BusMessage]) -> None:
        """One batch from Redis: each run of messages that came by the same route (a channel
        subscription, or one pattern) goes to the dispatcher as one batch, in order."""
        publish = self.dispatcher.publish_frames
        for pattern, run in itertools.groupby(messages, key=lambda m: m.pattern):
            publish([message_frame(m) for m in run], None if pattern is None else pattern_key(pattern))

    # UpstreamControl, as the registry drives it

    def subscribe(self, keys: list[str]) -> None:
        _route(keys, self.subscriber.subscribe, self.subscriber.psubscribe)

    def unsubscribe(self, keys: list[str]) -> None:
        _route(keys, self.subscriber.unsubscribe, self.subscriber.punsubscribe)
        self.dispatcher.forget(keys)

    # Client requests

    def request(self, session: ClientSession, tenant: Tenant, op: str, names: tuple[str, ...]) -> None:
        """(p)(un)subscribe what the tenant allows; replies and errors go to the session."""
        patterns = op.startswith("p")
        kind = "patterns" if patterns else "channels"
        keys = [pattern_key(n) for n in names] if patterns else list(names)
        if op.endswith("unsubscribe"):
            removed = self.registry.unsubscribe(session, keys)
            done = [n for n, k in zip(names, keys, strict=True) if k in removed]
            self.dispatcher.send(session, Frame.control({"type": op + "d", kind: done}))
            return
        allowed = (lambda name: allows_pattern(tenant, name)) if patterns else tenant.allows
        held = self.registry.symbols_of(session)
        limit = self.config.limits.max_per_client
        wanted: list[str] = []
        accepted: list[str] = []
        for name, key in zip(names, keys, strict=True):
            if patterns and self.patterns_refused:
                send_error(
                    self.dispatcher,
                    session,
                    "channel_refused",
                    f"{name}: pattern subscriptions are not available on a Redis Cluster (sharded pub/sub)",
                )
            elif not allowed(name):
                send_error(self.dispatcher, session, "channel_refused", f"{name}: not allowed for this tenant")
            elif key not in held and len(held) + len(wanted) >= limit:
                send_error(
                    self.dispatcher, session, "channel_refused", f"{name}: limit of {limit} subscriptions per client"
                )
            else:
                if key not in held:
                    wanted.append(key)
                accepted.append(name)
        added = self.registry.subscribe(session, wanted, limit=limit)
        if accepted:
            self.dispatcher.send(session, Frame.control({"type": op + "d", kind: accepted}))
            self.fanout.snapshot(session, added)

    # Figures

    def health(self) -> dict[str, object]:
        return {**super().health(), "redis": self.subscriber.state.value}

    def describe(self, core: dict[str, object]) -> dict[str, object]:
        symbols = core.pop("symbols")
        assert isinstance(symbols, dict)
        keys: list[str] = symbols.pop("list")
        channels, patterns = _split(keys)
        return {
            **core,
            "subscriptions": {**symbols, "channels": channels, "patterns": patterns},
            "redis": {**self.subscriber.figures(), "url": self.redis},
        }

    def expose(self, out: Exposition) -> None:
        sub = self.subscriber
        self.expose_transitions(out)
        out.gauge(
            "redis2ws_redis_connected",
            "1 while the Redis pub/sub connection is up.",
            int(sub.state.value == "connected"),
        )
        out.counter("redis2ws_redis_messages_total", "Messages received from Redis.", sub.messages)
        out.counter("redis2ws_redis_reconnects_total", "Connections to Redis after the first.", sub.reconnects)
        out.counter("redis2ws_redis_errors_total", "Redis connection failures.", sub.errors)
