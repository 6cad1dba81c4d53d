"""Gateway: the core objects of one restream process, wired together.

Owns the clock, registry, memory guard, dispatcher and feed; runs the feed and the periodic
sweep; answers the figures for /health, /status and /metrics. No HTTP here.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from lib_common.clock import Clock, LoopClock
from lib_common.core.fanout import Fanout, loop_defer
from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.core.session import ClientSession
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.metrics import Exposition
from servers.restream.config import RestreamConfig, Tenant
from servers.restream.feeds import build_feed

log = logging.getLogger(__name__)

UPSTREAM_STATES = tuple(state.value for state in UpstreamState)


class Gateway:
    def __init__(
        self,
        config: RestreamConfig,
        clock: Clock | None = None,
        defer: Callable[[Callable[[], None]], object] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or LoopClock()
        self.feed = build_feed(config.feed, self._ingest, self.clock, self._upstream_changed)
        self.fanout = Fanout(
            self,
            self.clock,
            linger_s=config.linger_s,
            budget_bytes=config.memory.budget_bytes,
            stall_timeout_s=config.memory.stall_timeout_s,
            defer=defer or loop_defer,
        )
        self.registry = self.fanout.registry
        self.guard = self.fanout.guard
        self.dispatcher = self.fanout.dispatcher
        self.connections: Counter[str] = Counter()
        self._started = time.monotonic()
        self._started_feed = False
        self.upstream_transitions: Counter[str] = Counter()

    # Lifecycle

    async def start(self) -> None:
        await self.feed.start()
        self._started_feed = True
        self.fanout.start()
        log.info("feed %s started: %s", self.config.feed.kind, self.feed.state)

    async def stop(self) -> None:
        self._started_feed = False
        await self.feed.stop()
        self.fanout.stop()

    def _ingest(self, quotes: list[Quote]) -> None:
        self.dispatcher.publish(quotes)

    def _upstream_changed(self, transition: Transition) -> None:
        """Tell every client when the upstream changes state (streaming, polling, ...)."""
        self.upstream_transitions[transition.target.value] += 1
        frame = Frame.control(
            {
                "type": "status",
                "upstream": transition.target.value,
                "previous": transition.source.value,
                "reason": transition.reason,
                "ts": transition.at_us,
            }
        )
        self.dispatcher.broadcast(frame)

    @property
    def serving(self) -> bool:
        return self._started_feed

    @property
    def state(self) -> str:
        return self.feed.state if self._started_feed else "idle"

    # UpstreamControl, as the registry drives it

    def subscribe(self, symbols: list[str]) -> None:
        self.feed.subscribe(symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        self.feed.unsubscribe(symbols)
        self.dispatcher.forget(symbols)

    # Sessions

    def admit(self, tenant: Tenant) -> bool:
        """Count a new connection for the tenant; False when it is at its limit."""
        if self.connections[tenant.name] >= tenant.max_connections:
            return False
        self.connections[tenant.name] += 1
        return True

    def leave(self, tenant: Tenant) -> None:
        self.connections[tenant.name] -= 1

    def subscribe_client(
        self, session: ClientSession, tenant: Tenant, symbols: tuple[str, ...]
    ) -> tuple[list[str], dict[str, str]]:
        """Subscribe what the tenant and the feed allow; returns (added, refused with reasons)."""
        refused: dict[str, str] = {}
        wanted: list[str] = []
        held = self.registry.symbols_of(session)
        limit = self.config.limits.max_symbols_per_client
        new = 0
        for symbol in symbols:
            if not tenant.allows(symbol):
                refused[symbol] = "not allowed for this tenant"
            elif not self.feed.accepts(symbol):
                refused[symbol] = "not served by this feed"
            elif symbol not in held and len(held) + new >= limit:
                refused[symbol] = f"limit of {limit} symbols per client"
            else:
                new += symbol not in held
                wanted.append(symbol)
        added = self.registry.subscribe(session, wanted)
        return added, refused

    def snapshot(self, session: ClientSession, symbols: list[str]) -> None:
        self.fanout.snapshot(session, symbols)

    # Figures

    def health(self) -> dict[str, object]:
        return {"status": "ok", "upstream": {"feed": self.config.feed.kind, "state": self.state}}

    def status(self) -> dict[str, object]:
        d = self.dispatcher
        core = self.fanout.status()
        subscriptions = core.pop("upstream_subscriptions")
        assert isinstance(subscriptions, dict)
        return {
            "uptime_s": round(time.monotonic() - self._started, 3),
            **core,
            "clients": {"connected": len(d.sessions), "by_tenant": dict(self.connections)},
            "upstream": {
                **self.feed.figures(),
                "feed": self.config.feed.kind,
                "state": self.state,
                **subscriptions,
            },
            "latency_us": {"p50_le": d.latency_us.quantile(0.5), "p99_le": d.latency_us.quantile(0.99)},
        }

    def metrics(self) -> str:
        out = Exposition()
        self.fanout.expose(out, "restream")
        out.gauges(
            "restream_tenant_clients",
            "Connected clients per tenant.",
            (({"tenant": name}, n) for name, n in sorted(self.connections.items())),
        )
        out.gauges(
            "restream_upstream_state",
            "1 for the state the upstream is in, 0 for the others.",
            (({"state": name}, int(name == self.state)) for name in UPSTREAM_STATES),
        )
        out.counters(
            "restream_upstream_transitions_total",
            "Upstream state changes, by the state entered.",
            (({"state": name}, self.upstream_transitions[name]) for name in UPSTREAM_STATES),
        )
        out.histogram(
            "restream_dispatch_latency_seconds",
            "From receipt (ts_library_in) to dispatch (ts_library_out).",
            self.dispatcher.latency_us,
            scale=1e-6,
        )
        return out.render()
