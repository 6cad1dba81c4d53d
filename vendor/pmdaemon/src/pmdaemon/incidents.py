"""Which incidents of a service the watch alerts, as plain code: time from an injected clock.

Two kinds, each announced once when it starts and once when it ends, with its duration:
- fatal: supervisord gave up on the service (FATAL); over when it is RUNNING and healthy again
  (whether the watch's recovery or a command brought it back);
- restart loop: `restart_loop.restarts` unplanned restarts (an unexpected exit, a start that
  failed before start_secs) within `restart_loop.within_s`; over once the service has been
  RUNNING and healthy for `restart_loop.stable_s` since its last start. While a service is
  FATAL no new loop is opened (the fatal incident says it already); a loop that ends in FATAL
  stays open beside it.

Healthy: a passing or "degraded" health check (the service itself is back; a dependency may be
down, which the services alert themselves), or RUNNING for a service without a health check.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Literal

from .clock import Clock
from .services import RestartLoopSpec


class IncidentKind(enum.Enum):
    FATAL = "fatal"
    RESTART_LOOP = "restart loop"


@dataclass(frozen=True, slots=True)
class Notice:
    """One alert to send: an incident's start, or its end with how long it lasted."""

    service: str
    kind: IncidentKind
    phase: Literal["start", "end"]
    text: str
    duration_s: float | None = None

    @property
    def subject(self) -> str:
        return f"{self.service} {self.kind.value}"


@dataclass
class _Service:
    restarts: deque[float]
    open: dict[IncidentKind, float]  # kind -> when it started (monotonic)


def duration_text(seconds: float) -> str:
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Incidents:
    def __init__(self, loop: RestartLoopSpec, clock: Clock) -> None:
        self.loop = loop
        self._clock = clock
        self._services: dict[str, _Service] = {}

    def _of(self, name: str) -> _Service:
        return self._services.setdefault(name, _Service(deque(), {}))

    def is_open(self, name: str, kind: IncidentKind) -> bool:
        return kind in self._of(name).open

    def unplanned_restart(self, name: str, detail: str) -> list[Notice]:
        """An unexpected exit or a failed start: supervisord restarts the service again."""
        now = self._clock.monotonic()
        service = self._of(name)
        service.restarts.append(now)
        while service.restarts and now - service.restarts[0] > self.loop.within_s:
            service.restarts.popleft()
        if len(service.restarts) < self.loop.restarts or service.open:
            return []  # not a loop yet, or already announced (as a loop, or as FATAL)
        service.open[IncidentKind.RESTART_LOOP] = now
        text = (
            f"{name}: restart loop: {len(service.restarts)} unplanned restarts within "
            f"{duration_text(self.loop.within_s)} (last: {detail})"
        )
        return [Notice(name, IncidentKind.RESTART_LOOP, "start", text)]

    def fatal(self, name: str) -> list[Notice]:
        """The service is FATAL (seen in an event or in the process table)."""
        service = self._of(name)
        if IncidentKind.FATAL in service.open:
            return []
        service.open[IncidentKind.FATAL] = self._clock.monotonic()
        text = f"{name}: FATAL: supervisord gave up starting it; the watch recovers it after a cool-down"
        return [Notice(name, IncidentKind.FATAL, "start", text)]

    def observe(self, name: str, *, healthy: bool, running_since: float | None) -> list[Notice]:
        """The service's state at an evaluation: the incidents it ends."""
        service = self._services.get(name)
        if service is None or not service.open or not healthy or running_since is None:
            return []
        now = self._clock.monotonic()
        out = []
        since = service.open.pop(IncidentKind.FATAL, None)
        if since is not None:
            out.append(self._end(name, IncidentKind.FATAL, since, now, "was FATAL"))
        since = service.open.get(IncidentKind.RESTART_LOOP)
        if since is not None and now - running_since >= self.loop.stable_s:
            del service.open[IncidentKind.RESTART_LOOP]
            service.restarts.clear()
            out.append(self._end(name, IncidentKind.RESTART_LOOP, since, now, "restart loop over"))
        return out

    def forget(self, keep: set[str]) -> None:
        """Services removed from the services file have no incidents any more."""
        for name in set(self._services) - keep:
            del self._services[name]

    @staticmethod
    def _end(name: str, kind: IncidentKind, since: float, now: float, what: str) -> Notice:
        duration = now - since
        text = f"{name}: running and healthy again after {duration_text(duration)} ({what})"
        return Notice(name, kind, "end", text, duration)
