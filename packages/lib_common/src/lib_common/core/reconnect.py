"""The reconnect policy every loop that reconnects shares: plain code, no sockets, no sleeping.

A loop (the Yahoo shard connection, the Redis publisher and subscriber, the durable consumers,
server_speak's sources) tells its `Reconnect` what happened (`connecting`, `connected`,
`failed`, `stopped`) and asks it how long to wait (`failed` returns the delay). The policy owns:

- the state, an explicit enum, each transition logged once at INFO;
- the backoff (exponential with jitter, reset by a connection that stays up);
- the outage: its start, its duration, the errors inside it;
- the log noise: the first failure of an outage is logged at WARNING, later ones at DEBUG with a
  WARNING summary at most every `summary_every_s` seconds, and the recovery once with the
  outage's duration (no line at all on a clean first connect);
- the figures: connects, reconnects, errors, last error, outages.

Time comes from an injected monotonic clock, randomness from the Backoff, so tests drive it by
hand (see tests/lib_common/core/test_reconnect.py).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from lib_common.core.backoff import Backoff

log = logging.getLogger(__name__)


class LinkState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKOFF = "backoff"


@dataclass(frozen=True, slots=True)
class Outage:
    """One stretch without a connection, from the first failure to the next connect."""

    started: float  # monotonic seconds
    ended: float
    errors: int
    first_error: str

    @property
    def duration_s(self) -> float:
        return self.ended - self.started


class Reconnect:
    """What a reconnecting loop does next, and what it says about it."""

    def __init__(
        self,
        name: str,
        *,
        monotonic: Callable[[], float],
        backoff: Backoff | None = None,
        summary_every_s: float = 60.0,
        logger: logging.Logger | None = None,
        on_outage: Callable[[str, Outage | None], None] | None = None,
    ) -> None:
        self.name = name
        self._monotonic = monotonic
        self.backoff = backoff or Backoff()
        self.summary_every_s = summary_every_s
        self._log = logger or log
        self._on_outage = on_outage
        self.state = LinkState.IDLE
        self.connects = 0
        self.errors = 0
        self.outages = 0
        self.last_error: str | None = None
        self.last_outage: Outage | None = None
        self._down_since: float | None = None
        self._down_errors = 0
        self._first_error = ""
        self._summary_at = 0.0
        self._summary_errors = 0

    # What happened

    def connecting(self) -> None:
        self._enter(LinkState.CONNECTING, "connecting")

    def connected(self) -> None:
        """A connection is up: the backoff starts over, an outage ends."""
        self.connects += 1
        self.backoff.reset()
        if self._down_since is not None:
            now = self._monotonic()
            outage = Outage(self._down_since, now, self._down_errors, self._first_error)
            self.last_outage = outage
            self._down_since = None
            self._log.warning(
                "%s: recovered after %.1f s down (%d failures; first: %s)",
                self.name,
                outage.duration_s,
                outage.errors,
                outage.first_error,
            )
            if self._on_outage is not None:
                self._on_outage(self.name, outage)
        self._enter(LinkState.CONNECTED, "connected")

    def failed(self, error: BaseException | str) -> float:
        """A connect failed or a live connection dropped: count it, log it (once per outage,
        then summaries), and return how long to wait before the next attempt."""
        text = _describe(error)
        now = self._monotonic()
        self.errors += 1
        self.last_error = text
        if self._down_since is None:
            self._down_since = now
            self._down_errors = 0
            self._first_error = text
            self._summary_at = now
            self._summary_errors = 0
            self.outages += 1
            self._log.warning("%s: %s (retrying with backoff; further failures summarised)", self.name, text)
            if self._on_outage is not None:
                self._on_outage(self.name, None)
        else:
            self._summary_errors += 1
            if now - self._summary_at >= self.summary_every_s:
                self._log.warning(
                    "%s: still down after %.0f s (%d failures in the last %.0f s; last: %s)",
                    self.name,
                    now - self._down_since,
                    self._summary_errors,
                    now - self._summary_at,
                    text,
                )
                self._summary_at = now
                self._summary_errors = 0
            else:
                self._log.debug("%s: %s", self.name, text)
        self._down_errors += 1
        delay = self.backoff.next_delay()
        self._enter(LinkState.BACKOFF, f"retrying in {delay:.2f} s")
        return delay

    def stopped(self) -> None:
        self._enter(LinkState.IDLE, "stopped")

    # What it knows

    @property
    def is_connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    def down_for(self) -> float:
        """Seconds since the current outage began (0 while connected or never failed)."""
        return 0.0 if self._down_since is None else self._monotonic() - self._down_since

    def figures(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "connected": self.is_connected,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "errors": self.errors,
            "outages": self.outages,
            "down_s": round(self.down_for(), 3),
            "last_error": self.last_error,
        }

    def _enter(self, state: LinkState, reason: str) -> None:
        if state is self.state:
            return
        # Retry churn (connecting <-> backoff inside an outage) is DEBUG: the outage lines say it.
        churn = self._down_since is not None and state in (LinkState.CONNECTING, LinkState.BACKOFF)
        self._log.log(
            logging.DEBUG if churn else logging.INFO,
            "%s %s -> %s (%s)",
            self.name,
            self.state.value,
            state.value,
            reason,
        )
        self.state = state


def _describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    text = str(error)
    # Newlines in an error (a peer's message) must not forge log lines.
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
