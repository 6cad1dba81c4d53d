"""FanoutServer: the process base of every fan-out gateway (restream, redis2ws, server_yahoo).

It owns the clock, the Fanout (registry, memory guard, dispatcher, sweep) and the per-tenant
admission; starts and stops in one order (the server's source, then the sweep; on the way
down the source, then every client closed with 1001); and answers the figures every gateway
reports. A server adds where its frames come from (`open` / `close`), its /health body, and
its own figures (`describe` for /status, `expose` for /metrics). No HTTP here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

from lib_common.clock import Clock, LoopClock
from lib_common.core.fanout import SHUTDOWN, Fanout, loop_defer
from lib_common.core.frame import Frame
from lib_common.core.registry import UpstreamControl
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.metrics import Exposition, by_label
from servers.kit.config import GatewayConfig
from servers.kit.connections import ConnectionGate
from servers.kit.egress import GatewayProtocol
from servers.kit.session import Admission

C = TypeVar("C", bound=GatewayConfig)
Defer = Callable[[Callable[[], None]], object]  # how the dispatcher's flush is scheduled (tests: a list)


class FanoutServer(Generic[C]):
    name: str  # the server's name, also the prefix of its metrics

    def __init__(
        self,
        config: C,
        upstream: UpstreamControl,
        *,
        clock: Clock | None = None,
        defer: Defer | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or LoopClock()
        self.fanout = Fanout(
            upstream,
            self.clock,
            linger_s=config.linger_s,
            max_lingering=config.max_lingering,
            budget_bytes=config.memory.budget_bytes,
            stall_timeout_s=config.memory.stall_timeout_s,
            defer=defer or loop_defer,
        )
        self.registry = self.fanout.registry
        self.guard = self.fanout.guard
        self.dispatcher = self.fanout.dispatcher
        self.admission = Admission()
        self.upstream_transitions: Counter[str] = Counter()
        self.gate = ConnectionGate.from_limits(config.limits)  # serving puts it in front of every connection
        self.serving = False
        self.leaving = SHUTDOWN  # what clients are closed with at the end: RESTART for a handover
        self._started_at: float | None = None

    # Lifecycle

    async def start(self) -> None:
        await self.open()
        self.fanout.start()
        self._started_at = self.clock.monotonic()
        self.serving = True

    async def stop(self) -> None:
        self.serving = False
        await self.close()
        self.fanout.stop(self.leaving)

    async def open(self) -> None:
        """Start where frames come from (the feed, the Redis subscriber, the upstream)."""

    async def close(self) -> None:
        """Stop where frames come from."""

    def announce(self, transition: Transition) -> None:
        """Tell every client that the upstream changed state (a status frame), and count it."""
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
    def uptime_s(self) -> float:
        """Seconds since start, by the server's clock (0 before it)."""
        started = self._started_at
        return 0.0 if started is None else round(self.clock.monotonic() - started, 3)

    # Figures

    def health(self) -> dict[str, object]:
        """The /health body; /health answers 200 while serving, else 503."""
        return {"status": "ok" if self.serving else "starting"}

    def status(self) -> dict[str, object]:
        core = self.fanout.status()
        core["clients"] = {"connected": len(self.dispatcher.sessions), "by_tenant": dict(self.admission.connections)}
        core["connections"] = {**self.gate.status(), "buffered_bytes": self.buffered_bytes()}
        return {"uptime_s": self.uptime_s, **self.describe(core)}

    def buffered_bytes(self) -> int:
        """What the clients' transports hold: frames past the dispatcher, pongs, close frames."""
        return sum(s.egress.buffered_bytes for s in self.dispatcher.sessions if isinstance(s.egress, GatewayProtocol))

    def describe(self, core: dict[str, object]) -> dict[str, object]:
        """/status from the shared figures (`core`, which a server may regroup) and its own."""
        return core

    def metrics(self) -> str:
        out = Exposition()
        self.fanout.expose(out, self.name)
        out.gauges(
            f"{self.name}_tenant_clients",
            "Connected clients per tenant.",
            by_label("tenant", self.admission.connections),
        )
        self.gate.expose(out, self.name)
        out.gauge(
            f"{self.name}_transport_buffered_bytes",
            "Bytes written to clients' transports and not yet taken by the kernel (beside the guard's).",
            self.buffered_bytes(),
        )
        self.expose(out)
        return out.render()

    def expose(self, out: Exposition) -> None:
        """The server's own metrics, after the shared ones."""

    def expose_transitions(self, out: Exposition) -> None:
        """Upstream state changes by the state entered (servers that `announce` them)."""
        out.counters(
            f"{self.name}_upstream_transitions_total",
            "Upstream state changes, by the state entered.",
            (({"state": state.value}, self.upstream_transitions[state.value]) for state in UpstreamState),
        )
