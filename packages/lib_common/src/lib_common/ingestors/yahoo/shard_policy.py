"""One Yahoo shard connection as a state machine: events in, decisions out, no sockets.

    IDLE        no symbols on the shard (or stopped): nothing to do
    CONNECTING  a handshake is under way
    SUBSCRIBED  the handshake succeeded and the shard's whole set went out; no frame yet
    RECEIVING   frames arrive
    BACKOFF     the connection failed or dropped; the next connect waits out a delay

The adapter (streamer.py) reports what happened: `start`, `connect_failed`, `connect_succeeded`,
`frame`, `closed`, `deadline_reached`, `waited`; each answers with what to do next:
`Connect`, `Subscribe` (the shard's whole set, on every (re)connect), `Drop` (close the live
connection: it has been silent since `silent_since`), `ReconnectAfter` (wait `delay_s`, then call
`waited`) or `Stop` (no symbols left). Every drop, whatever its cause, goes the same way: back off,
reconnect, resubscribe.

Backoff, outage accounting and rate-limited logging are `lib_common.core.reconnect.Reconnect`'s.
The link counts as connected once data flows (the first frame), not at the handshake: an upstream
that accepts every handshake and then stays mute is one outage, and its backoff keeps growing.
Time is an injected monotonic callable, so tests drive the inactivity deadline by hand.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import Reconnect

log = logging.getLogger(__name__)


class ShardState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    SUBSCRIBED = "subscribed"
    RECEIVING = "receiving"
    BACKOFF = "backoff"


@dataclass(frozen=True, slots=True)
class Connect:
    """Open the connection now."""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Send the shard's whole subscription set on the connection that just opened."""

    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the live connection; report `closed(reason)` once it is gone."""

    reason: str
    silent_since: float  # monotonic seconds: the last frame, or the connect if none came


@dataclass(frozen=True, slots=True)
class ReconnectAfter:
    """Wait `delay_s`, then report `waited()`."""

    delay_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class Stop:
    """Nothing left to carry: end the connection loop."""


Decision = Connect | Subscribe | Drop | ReconnectAfter | Stop


class ShardPolicy:
    """What one shard connection does next. `symbols` gives the shard's current set."""

    def __init__(
        self,
        index: int,
        symbols: Callable[[], list[str]],
        *,
        monotonic: Callable[[], float],
        inactivity_s: float | None = 30.0,
        backoff: Backoff | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.index = index
        self._symbols = symbols
        self._monotonic = monotonic
        self.inactivity_s = inactivity_s  # None: silence is never a reason to reconnect
        self._on_change = on_change
        self.link = Reconnect(f"yahoo shard {index}", monotonic=monotonic, backoff=backoff, logger=log)
        self.state = ShardState.IDLE
        now = monotonic()
        self.since = now  # when this connection was last wanted
        self.down_at = now  # since when it is down (while not connected): the drop, not the last retry
        self.connected_at = 0.0
        self.last_message: float | None = None
        # Figures.
        self.connects = 0  # handshakes that succeeded
        self.drops: Counter[str] = Counter()  # by the reason's kind: connect, closed, inactive
        self.last_error: str | None = None

    # What the health view reads

    @property
    def connected(self) -> bool:
        return self.state in (ShardState.SUBSCRIBED, ShardState.RECEIVING)

    @property
    def receiving(self) -> bool:
        return self.state is ShardState.RECEIVING

    def heard_at(self) -> float:
        """The last frame, across reconnects (a stalled upstream that accepts every reconnect must
        not look fresh each time), or when the shard was wanted if none came yet."""
        return self.last_message if self.last_message is not None else self.since

    def deadline(self) -> float | None:
        """When silence on the live connection becomes a reason to drop it (None: never)."""
        if not self.connected or self.inactivity_s is None:
            return None
        return max(self.connected_at, self.last_message or 0.0) + self.inactivity_s

    # Events

    def start(self) -> Decision:
        """The shard is wanted (again): connect if it carries symbols."""
        if not self._symbols():
            return self._stop()
        if self.state is ShardState.IDLE:
            now = self._monotonic()
            self.since = self.down_at = now
            self.last_message = None
        return self._connect()

    def connect_failed(self, error: BaseException | str) -> Decision:
        return self._down(f"connect: {_text(error)}")

    def connect_succeeded(self) -> Subscribe:
        self._require(ShardState.CONNECTING, "connect_succeeded")
        self.connects += 1
        self.connected_at = self._monotonic()
        self._enter(ShardState.SUBSCRIBED)
        return Subscribe(tuple(self._symbols()))

    def frame(self) -> None:
        """A frame arrived (whatever it holds: a malformed one still proves the link is alive)."""
        self.last_message = self._monotonic()
        if self.state is ShardState.SUBSCRIBED:
            self.link.connected()  # data flows: the outage is over and the backoff starts again
            self._enter(ShardState.RECEIVING)

    def deadline_reached(self) -> Drop | None:
        """The adapter's wait for a frame ran out: drop the connection if the deadline really passed
        (a frame or a longer timeout may have moved it)."""
        deadline = self.deadline()
        if deadline is None or self._monotonic() < deadline:
            return None
        return Drop(f"inactive: no frame for {self.inactivity_s}s", silent_since=deadline - (self.inactivity_s or 0.0))

    def closed(self, reason: str) -> Decision:
        """The connection is gone: `reason` is "<kind>: <detail>" (closed, inactive)."""
        return self._down(reason)

    def waited(self) -> Decision:
        """The backoff delay is over."""
        self._require(ShardState.BACKOFF, "waited")
        if not self._symbols():
            return self._stop()
        return self._connect()

    def stopped(self) -> None:
        self._stop()

    # Internals

    def _connect(self) -> Connect:
        self.link.connecting()
        self._enter(ShardState.CONNECTING)
        return Connect()

    def _down(self, reason: str) -> Decision:
        self.drops[reason.split(":", 1)[0]] += 1
        self.last_error = reason
        if not self._symbols():
            return self._stop()  # nobody wants the shard any more: nothing to retry
        delay = self.link.failed(reason)
        self._enter(ShardState.BACKOFF)
        return ReconnectAfter(delay, reason)

    def _stop(self) -> Stop:
        self.link.stopped()
        self._enter(ShardState.IDLE)
        return Stop()

    def _require(self, state: ShardState, event: str) -> None:
        if self.state is not state:
            raise RuntimeError(f"yahoo shard {self.index}: {event} while {self.state.value}, expected {state.value}")

    def _enter(self, state: ShardState) -> None:
        if state is self.state:
            return
        was_up = self.connected
        self.state = state
        if was_up and not self.connected:
            self.down_at = self._monotonic()
        if self._on_change is not None:
            self._on_change()


def _text(error: BaseException | str) -> str:
    return error if isinstance(error, str) else str(error) or type(error).__name__
