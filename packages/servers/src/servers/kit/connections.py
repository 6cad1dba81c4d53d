"""ConnectionGate: how many TCP connections a server holds, from whom, and which it refuses.

Plain policy: every connection is admitted or refused when it is accepted, before a byte of
HTTP is read, by its peer's address (`limits.max_connections_per_ip`, HTTP 429), by the
server's total (`limits.max_connections_total`, 503) and by the file descriptors the process
has left (`fd_room`: the soft RLIMIT_NOFILE less the descriptors open at start and
`limits.fd_headroom`, 503), so the server keeps descriptors for its own work (upstream, Redis,
logs) and for answering the refused. It also counts handshake timeouts and accept failures
for /metrics. servers.kit.ingress is its uvicorn adapter; `fd_room` reads the process.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from lib_common.core.rate_limit import LogThrottle
from lib_common.metrics import Exposition
from servers.kit.config import ClientLimits

try:  # POSIX only; on Windows there is no descriptor limit to keep room under
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

ACCEPT_LOG_INTERVAL_S = 10.0


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # the HTTP status the refused connection is answered with
    reason: str  # the /metrics label
    message: str


PER_IP = Refusal(429, "per_ip", "too many connections from your address")
TOTAL = Refusal(503, "total", "the server is at its connection limit")
FD_HEADROOM = Refusal(503, "fd_headroom", "the server is short of file descriptors")


class ConnectionGate:
    """Open connections per peer address and in all, against the limits."""

    def __init__(
        self, *, per_ip: int, total: int, handshake_timeout_s: float, fd_headroom: int = 0, fd_room: int | None = None
    ) -> None:
        self.per_ip = per_ip
        self.total = total
        self.handshake_timeout_s = handshake_timeout_s
        self.fd_headroom = fd_headroom
        self.fd_room = fd_room  # None: no descriptor limit known (serving sets it from the process)
        self.by_ip: Counter[str] = Counter()
        self.open = 0
        self.refused: Counter[str] = Counter()
        self.handshake_timeouts = 0
        self.accept_errors = LogThrottle(ACCEPT_LOG_INTERVAL_S)

    @classmethod
    def from_limits(cls, limits: ClientLimits) -> ConnectionGate:
        return cls(
            per_ip=limits.max_connections_per_ip,
            total=limits.max_connections_total,
            handshake_timeout_s=limits.handshake_timeout_s,
            fd_headroom=limits.fd_headroom,
        )

    def admit(self, ip: str) -> Refusal | None:
        """Count a new connection from `ip`; the refusal when it is over a limit (not counted
        as open)."""
        refusal = self._refusal(ip)
        if refusal is not None:
            self.refused[refusal.reason] += 1
            return refusal
        self.by_ip[ip] += 1
        self.open += 1
        return None

    def _refusal(self, ip: str) -> Refusal | None:
        if self.by_ip[ip] >= self.per_ip:
            return PER_IP
        if self.open >= self.total:
            return TOTAL
        if self.fd_room is not None and self.open >= self.fd_room:
            return FD_HEADROOM
        return None

    def leave(self, ip: str) -> None:
        """An admitted connection from `ip` has closed."""
        self.open -= 1
        self.by_ip[ip] -= 1
        if self.by_ip[ip] <= 0:
            del self.by_ip[ip]

    def status(self) -> dict[str, object]:
        return {
            "open": self.open,
            "addresses": len(self.by_ip),
            "refused": dict(self.refused),
            "handshake_timeouts": self.handshake_timeouts,
            "accept_errors": self.accept_errors.total,
        }

    def expose(self, out: Exposition, prefix: str) -> None:
        out.gauge(f"{prefix}_connections_open", "TCP connections held (HTTP and WebSocket).", self.open)
        out.counters(
            f"{prefix}_connections_refused_total",
            "Connections refused before the upgrade, by limit (per_ip: 429; total, fd_headroom: 503).",
            (({"reason": r.reason}, self.refused[r.reason]) for r in (PER_IP, TOTAL, FD_HEADROOM)),
        )
        out.counter(
            f"{prefix}_handshake_timeouts_total",
            "Connections closed for not sending a request head within limits.handshake_timeout_s.",
            self.handshake_timeouts,
        )
        out.counter(
            f"{prefix}_accept_errors_total",
            "Connections the listening socket could not accept for lack of file descriptors.",
            self.accept_errors.total,
        )


def fd_room(headroom: int) -> int | None:
    """How many more descriptors this process may open while keeping `headroom` free under its
    soft RLIMIT_NOFILE; None where there is no such limit (Windows) or it is unlimited."""
    limit = fd_limit()
    return None if limit is None else max(0, limit - (fds_open() or 0) - headroom)


def fd_limit() -> int | None:
    """The soft RLIMIT_NOFILE; None where there is none (Windows) or it is unlimited."""
    if resource is None:  # pragma: no cover - Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def fds_open() -> int | None:
    """Descriptors this process has open (Linux /proc); None where that cannot be read, out of
    descriptors itself included (the headroom covers the others)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None
