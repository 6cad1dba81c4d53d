"""Bridge: the core of one redis2ws process, Redis pub/sub on one side, clients on the other.

The same Fanout as restream: the Registry's keys are channel names (and, for pattern
subscriptions, `PATTERN_KEY + pattern`), so one Redis SUBSCRIBE (or PSUBSCRIBE) serves every
client that wants it, with a linger before the UNSUBSCRIBE; each message is encoded once into a
frame conflated by its channel. No HTTP here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable

from lib_common.clock import Clock, LoopClock
from lib_common.core.fanout import Fanout, loop_defer
from lib_common.core.frame import Frame
from lib_common.core.session import ClientSession
from lib_common.metrics import Exposition
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink, Subscriber
from servers.redis2ws.config import BridgeConfig, ChannelTenant
from servers.redis2ws.protocol import PATTERN_KEY, message_frame, pattern_key
from servers.ws_session import Admission


def _split(keys: list[str]) -> tuple[list[str], list[str]]:
    channels = [k for k in keys if not k.startswith(PATTERN_KEY)]
    patterns = [k[len(PATTERN_KEY) :] for k in keys if k.startswith(PATTERN_KEY)]
    return channels, patterns


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        clock: Clock | None = None,
        connect: Callable[[], Awaitable[PubSubLink]] | None = None,
        defer: Callable[[Callable[[], None]], object] | None = None,
    ) -> None:
        from lib_common.redis_bus.links import RespPubSubLink, redacted

        self.config = config
        self.clock = clock or LoopClock()
        self.redis = redacted(config.redis_url)
        self.subscriber = Subscriber(
            connect or (lambda: RespPubSubLink.connect(config.redis_url)), self._relay, name="redis2ws"
        )
        self.fanout = Fanout(
            self,
            self.clock,
            linger_s=config.linger_s,
            budget_bytes=config.memory.budget_bytes,
            stall_timeout_s=config.memory.stall_timeout_s,
            defer=defer or loop_defer,
        )
        self.registry = self.fanout.registry
        self.dispatcher = self.fanout.dispatcher
        self.admission: Admission[ChannelTenant] = Admission()
        self._started = time.monotonic()
        self.serving = False

    async def start(self) -> None:
        await self.subscriber.start()
        self.fanout.start()
        self.serving = True

    async def stop(self) -> None:
        self.serving = False
        await self.subscriber.stop()
        self.fanout.stop()

    def _relay(self, messages: list[BusMessage]) -> None:
        """One batch from Redis: each run of messages that came by the same route (a channel
        subscription, or one pattern) goes to the dispatcher as one batch, in order."""
        publish = self.dispatcher.publish_frames
        for pattern, run in itertools.groupby(messages, key=lambda m: m.pattern):
            publish([message_frame(m) for m in run], None if pattern is None else pattern_key(pattern))

    # UpstreamControl, as the registry drives it

    def subscribe(self, keys: list[str]) -> None:
        channels, patterns = _split(keys)
        if channels:
            self.subscriber.subscribe(channels)
        if patterns:
            self.subscriber.psubscribe(patterns)

    def unsubscribe(self, keys: list[str]) -> None:
        channels, patterns = _split(keys)
        if channels:
            self.subscriber.unsubscribe(channels)
        if patterns:
            self.subscriber.punsubscribe(patterns)
        self.dispatcher.forget(keys)

    # Client requests

    def request(self, session: ClientSession, tenant: ChannelTenant, op: str, names: tuple[str, ...]) -> None:
        """(p)(un)subscribe what the tenant allows; replies and errors go to the session."""
        patterns = op.startswith("p")
        kind = "patterns" if patterns else "channels"
        keys = [pattern_key(n) for n in names] if patterns else list(names)
        if op.endswith("unsubscribe"):
            removed = self.registry.unsubscribe(session, keys)
            done = [n for n, k in zip(names, keys, strict=True) if k in removed]
            self._reply(session, {"type": op + "d", kind: done})
            return
        allowed = tenant.allows_pattern if patterns else tenant.allows_channel
        held = self.registry.symbols_of(session)
        limit = self.config.limits.max_per_client
        wanted: list[str] = []
        accepted: list[str] = []
        for name, key in zip(names, keys, strict=True):
            if not allowed(name):
                self._error(session, "channel_refused", f"{name}: not allowed for this tenant")
            elif key not in held and len(held) + len(wanted) >= limit:
                self._error(session, "channel_refused", f"{name}: limit of {limit} subscriptions per client")
            else:
                if key not in held:
                    wanted.append(key)
                accepted.append(name)
        added = self.registry.subscribe(session, wanted)
        if accepted:
            self._reply(session, {"type": op + "d", kind: accepted})
            self.fanout.snapshot(session, added)

    def _reply(self, session: ClientSession, body: dict[str, object]) -> None:
        self.dispatcher.send(session, Frame.control(body))

    def _error(self, session: ClientSession, code: str, message: str) -> None:
        self._reply(session, {"type": "error", "code": code, "message": message})

    # Figures

    def health(self) -> dict[str, object]:
        return {"status": "ok" if self.serving else "starting", "redis": self.subscriber.state.value}

    def status(self) -> dict[str, object]:
        core = self.fanout.status()
        symbols = core.pop("symbols")
        assert isinstance(symbols, dict)
        keys: list[str] = symbols.pop("list")
        channels, patterns = _split(keys)
        return {
            "uptime_s": round(time.monotonic() - self._started, 3),
            **core,
            "clients": {"connected": len(self.dispatcher.sessions), "by_tenant": dict(self.admission.connections)},
            "subscriptions": {**symbols, "channels": channels, "patterns": patterns},
            "redis": {**self.subscriber.figures(), "url": self.redis},
        }

    def metrics(self) -> str:
        out = Exposition()
        self.fanout.expose(out, "redis2ws")
        sub = self.subscriber
        out.gauges(
            "redis2ws_tenant_clients",
            "Connected clients per tenant.",
            (({"tenant": name}, n) for name, n in sorted(self.admission.connections.items())),
        )
        out.gauge(
            "redis2ws_redis_connected",
            "1 while the Redis pub/sub connection is up.",
            int(sub.state.value == "connected"),
        )
        out.counter("redis2ws_redis_messages_total", "Messages received from Redis.", sub.messages)
        out.counter("redis2ws_redis_reconnects_total", "Connections to Redis after the first.", sub.reconnects)
        out.counter("redis2ws_redis_errors_total", "Redis connection failures.", sub.errors)
        return out.render()
