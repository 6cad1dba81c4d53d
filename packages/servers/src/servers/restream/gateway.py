"""Gateway: the core objects of one restream process, wired together.

Owns the clock, registry, memory guard, dispatcher and feed; runs the feed and the periodic
sweep; answers the figures for /health, /status and /metrics. No HTTP here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from lib_common.clock import Clock, LoopClock, Timer
from lib_common.core.dispatcher import Dispatcher
from lib_common.core.frame import Frame
from lib_common.core.memory_guard import MemoryGuard
from lib_common.core.quote import Quote
from lib_common.core.registry import Registry
from lib_common.core.session import ClientSession
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.metrics import Exposition
from servers.restream.config import RestreamConfig, Tenant
from servers.restream.feeds import build_feed

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 0.5
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
        self.registry: Registry[ClientSession] = Registry(self, self.clock, linger_s=config.linger_s)
        self.guard = MemoryGuard(config.memory.budget_bytes)
        self.dispatcher = Dispatcher(
            self.registry,
            self.guard,
            self.clock,
            defer=defer or self._defer,
            stall_timeout_s=config.memory.stall_timeout_s,
        )
        self.connections: Counter[str] = Counter()
        self._started = time.monotonic()
        self._sweep_timer: Timer | None = None
        self._started_feed = False
        self.upstream_transitions: Counter[str] = Counter()

    # Lifecycle

    async def start(self) -> None:
        await self.feed.start()
        self._started_feed = True
        self._schedule_sweep()
        log.info("feed %s started: %s", self.config.feed.kind, self.feed.state)

    async def stop(self) -> None:
        self._started_feed = False
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
        await self.feed.stop()
        for session in list(self.dispatcher.sessions):
            self.dispatcher.close(session, 1001, "server shutting down")

    @staticmethod
    def _defer(callback: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_soon(callback)

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

    def _schedule_sweep(self) -> None:
        self._sweep_timer = self.clock.call_later(SWEEP_INTERVAL_S, self._sweep)

    def _sweep(self) -> None:
        try:
            self.dispatcher.sweep()
        finally:
            self._schedule_sweep()

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
        """The latest quote of each symbol, so a new subscriber is current at once."""
        for symbol in symbols:
            frame = self.dispatcher.latest.get(symbol)
            if frame is not None:
                self.dispatcher.send(session, frame)

    # Figures

    def health(self) -> dict[str, object]:
        return {"status": "ok", "upstream": {"feed": self.config.feed.kind, "state": self.state}}

    def status(self) -> dict[str, object]:
        d = self.dispatcher
        p50, p99 = d.latency_us.quantile(0.5), d.latency_us.quantile(0.99)
        return {
            "uptime_s": round(time.monotonic() - self._started, 3),
            "clients": {"connected": len(d.sessions), "by_tenant": dict(self.connections)},
            "symbols": {
                "active": len(self.registry.active),
                "lingering": len(self.registry.lingering),
                "list": self.registry.active,
            },
            "frames": {"in": d.frames_in, "out": d.frames_out, "conflated": d.conflated, "evicted_clients": d.evicted},
            "memory_guard": {
                "budget_bytes": self.guard.budget,
                "used_bytes": self.guard.used,
                "peak_bytes": self.guard.peak,
            },
            "upstream": {
                **self.feed.figures(),
                "feed": self.config.feed.kind,
                "state": self.state,
                "subscribes": self.registry.upstream_subscribes,
                "unsubscribes": self.registry.upstream_unsubscribes,
            },
            "latency_us": {"p50_le": p50, "p99_le": p99},
        }

    def metrics(self) -> str:
        d = self.dispatcher
        out = Exposition()
        out.gauge("restream_clients", "Connected WebSocket clients.", len(d.sessions))
        out.gauges(
            "restream_tenant_clients",
            "Connected clients per tenant.",
            (({"tenant": name}, n) for name, n in sorted(self.connections.items())),
        )
        out.gauge("restream_symbols_active", "Symbols with at least one subscriber.", len(self.registry.active))
        out.gauge(
            "restream_symbols_lingering",
            "Symbols waiting out the linger before upstream unsubscribe.",
            len(self.registry.lingering),
        )
        out.counter("restream_frames_in_total", "Quotes received from the feed.", d.frames_in)
        out.counter("restream_frames_out_total", "Frames written to clients.", d.frames_out)
        out.counter("restream_frames_conflated_total", "Queued frames replaced or dropped by conflation.", d.conflated)
        out.counter("restream_clients_evicted_total", "Clients closed as slow consumers (1013).", d.evicted)
        out.gauge(
            "restream_guard_bytes", "Bytes queued for clients, as the memory guard accounts them.", self.guard.used
        )
        out.gauge("restream_guard_peak_bytes", "Highest value of restream_guard_bytes.", self.guard.peak)
        out.gauge("restream_guard_budget_bytes", "The memory guard's budget.", self.guard.budget)
        out.counter(
            "restream_upstream_subscribes_total", "Symbols subscribed upstream.", self.registry.upstream_subscribes
        )
        out.counter(
            "restream_upstream_unsubscribes_total",
            "Symbols unsubscribed upstream.",
            self.registry.upstream_unsubscribes,
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
            d.latency_us,
            scale=1e-6,
        )
        return out.render()
