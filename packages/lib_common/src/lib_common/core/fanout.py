"""Fanout: the delivery half of every gateway, wired once.

Registry (who wants what, upstream lifecycle with linger) + MemoryGuard + Dispatcher, the
periodic stall sweep, snapshots for new subscribers, and the figures every server reports
about them. restream, server_yahoo and the Redis bridges differ in where frames come from and
in the client protocol, not in this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lib_common.clock import Clock, Timer
from lib_common.core.dispatcher import Dispatcher
from lib_common.core.memory_guard import MemoryGuard
from lib_common.core.registry import Registry, UpstreamControl
from lib_common.core.session import ClientSession
from lib_common.metrics import Exposition

SWEEP_INTERVAL_S = 0.5
SHUTDOWN = (1001, "server shutting down")
RESTART = (1012, "service restart")  # a planned restart: a successor serves, come back at once


def loop_defer(callback: Callable[[], None]) -> None:
    """Run `callback` once the current loop tick is done (the dispatcher's flush)."""
    asyncio.get_running_loop().call_soon(callback)


class Fanout:
    def __init__(
        self,
        upstream: UpstreamControl,
        clock: Clock,
        *,
        linger_s: float,
        max_lingering: int = 1000,
        budget_bytes: int,
        stall_timeout_s: float,
        defer: Callable[[Callable[[], None]], object] = loop_defer,
    ) -> None:
        self.clock = clock
        self.registry: Registry[ClientSession] = Registry(
            upstream, clock, linger_s=linger_s, max_lingering=max_lingering
        )
        self.guard: MemoryGuard[ClientSession] = MemoryGuard(budget_bytes)
        self.dispatcher = Dispatcher(self.registry, self.guard, clock, defer=defer, stall_timeout_s=stall_timeout_s)
        self._sweep_timer: Timer | None = None

    def start(self) -> None:
        self._schedule_sweep()

    def stop(self, close: tuple[int, str] = SHUTDOWN) -> None:
        """Stop sweeping and close every client with `close` (1001; 1012 for a planned restart)."""
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = None
        for session in list(self.dispatcher.sessions):
            self.dispatcher.close(session, *close)

    def snapshot(self, session: ClientSession, symbols: list[str]) -> None:
        """The latest frame of each symbol, so a new subscriber is current at once."""
        for symbol in symbols:
            frame = self.dispatcher.latest.get(symbol)
            if frame is not None:
                self.dispatcher.send(session, frame)

    def _schedule_sweep(self) -> None:
        self._sweep_timer = self.clock.call_later(SWEEP_INTERVAL_S, self._sweep)

    def _sweep(self) -> None:
        try:
            self.dispatcher.sweep()
        finally:
            self._schedule_sweep()

    # Figures

    def status(self) -> dict[str, object]:
        d = self.dispatcher
        return {
            "clients": {"connected": len(d.sessions)},
            "symbols": {
                "active": len(self.registry.active),
                "lingering": len(self.registry.lingering),
                "lingering_released_early": self.registry.lingering_evicted,
                "list": self.registry.active,
            },
            "frames": {"in": d.frames_in, "out": d.frames_out, "conflated": d.conflated, "evicted_clients": d.evicted},
            "memory_guard": {
                "budget_bytes": self.guard.budget,
                "used_bytes": self.guard.used,
                "peak_bytes": self.guard.peak,
            },
            "upstream_subscriptions": {
                "subscribes": self.registry.upstream_subscribes,
                "unsubscribes": self.registry.upstream_unsubscribes,
            },
        }

    def expose(self, out: Exposition, prefix: str) -> None:
        d = self.dispatcher
        out.gauge(f"{prefix}_clients", "Connected WebSocket clients.", len(d.sessions))
        out.gauge(f"{prefix}_symbols_active", "Symbols with at least one subscriber.", len(self.registry.active))
        out.gauge(
            f"{prefix}_symbols_lingering",
            "Symbols waiting out the linger before upstream unsubscribe.",
            len(self.registry.lingering),
        )
        out.counter(
            f"{prefix}_symbols_lingering_released_total",
            "Lingering symbols released upstream before their linger ran out: to make room within a client's "
            "symbol limit (what it left lingering counts) or within registry.max_lingering.",
            self.registry.lingering_evicted,
        )
        out.counter(f"{prefix}_frames_in_total", "Frames received from upstream.", d.frames_in)
        out.counter(f"{prefix}_frames_out_total", "Frames written to clients.", d.frames_out)
        out.counter(f"{prefix}_frames_conflated_total", "Queued frames replaced or dropped by conflation.", d.conflated)
        out.counter(f"{prefix}_clients_evicted_total", "Clients closed as slow consumers (1013).", d.evicted)
        out.gauge(
            f"{prefix}_guard_bytes", "Bytes queued for clients, as the memory guard accounts them.", self.guard.used
        )
        out.gauge(f"{prefix}_guard_peak_bytes", "Highest value of the guard's bytes.", self.guard.peak)
        out.gauge(f"{prefix}_guard_budget_bytes", "The memory guard's budget.", self.guard.budget)
        out.counter(
            f"{prefix}_upstream_subscribes_total", "Symbols subscribed upstream.", self.registry.upstream_subscribes
        )
        out.counter(
            f"{prefix}_upstream_unsubscribes_total",
            "Symbols unsubscribed upstream.",
            self.registry.upstream_unsubscribes,
        )
