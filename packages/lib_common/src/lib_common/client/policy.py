"""Everything the client decides, as plain code: no sockets, no sleeping, time injected.

`ClientPolicy` is told what happened to the connection (`connecting`, `connected`, `lost`,
`failed`, `stalled`, `refused`, `stopped`) and what the server sent (`receive`), and answers
what to do: the messages to send on a new connection, how long to wait before the next
attempt (none after a 1012 close: the server is restarting and its successor already serves;
otherwise backoff with jitter), whether a frame goes to the user. Around it:

- `Subscriptions`: what the user wants, re-sent on every new connection;
- `MonotonicFilter` (lib_common.core.ordering): never the same quote twice, never an older
  quote of a symbol after a newer one, whatever the reconnects (a new connection's snapshot of
  a quote already seen is dropped; a quote without `symbol` and integer `ts_upstream` passes);
- `Reconnect` (lib_common.core.reconnect): the state, the backoff, the outage's logging;
- events (lib_common.client.events) for every state change, upstream status and error frame,
  given to the user's callback, whose exceptions are logged, never raised.

client.connection is the websockets adapter that drives it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from lib_common.client.events import ClientEvent, ServerError, StateChanged, UpstreamChanged
from lib_common.client.subscriptions import RESTREAM, Dialect, Subscriptions
from lib_common.core.backoff import Backoff
from lib_common.core.ordering import MonotonicFilter
from lib_common.core.reconnect import LinkState, Reconnect

log = logging.getLogger(__name__)

SERVICE_RESTART = 1012
# HTTP statuses that no retry can fix: a wrong or missing token, a refused origin.
REFUSED_FOR_GOOD = frozenset((401, 403))
CLOSE_CODES = {
    1000: "normal closure",
    1001: "going away",
    1006: "connection lost",
    1008: "policy violation",
    1011: "server error",
    1012: "service restart",
    1013: "try again later",
}
# Frames that need nothing from the client: acknowledgements and the answer to a ping.
_ACKS = frozenset(("pong", "subscribed", "unsubscribed", "psubscribed", "punsubscribed"))

Frame = dict[str, Any]


def describe_close(code: int | None, reason: str = "") -> str:
    if code is None:
        return reason or "connection lost"
    text = f"closed {code} ({CLOSE_CODES.get(code, 'unknown code')})"
    return f"{text}: {reason}" if reason else text


class ClientPolicy:
    def __init__(
        self,
        name: str,
        *,
        dialect: Dialect = RESTREAM,
        monotonic: Callable[[], float],
        backoff: Backoff | None = None,
        on_event: Callable[[ClientEvent], None] | None = None,
        max_per_message: int = 100,
    ) -> None:
        self.name = name
        self.dialect = dialect
        self.subscriptions = Subscriptions(dialect, max_per_message)
        self.filter = MonotonicFilter()
        self.reconnect = Reconnect(
            name, monotonic=monotonic, backoff=backoff or Backoff(base_s=0.25, cap_s=5.0), logger=log
        )
        self._on_event = on_event
        self._data_type = dialect.data_type
        self._wrapped = dialect is not RESTREAM  # redis2ws: the quote is the message's "data"
        self.upstream: str | None = None
        self.last_close_code: int | None = None
        self.bad_frames = 0
        self.server_errors = 0

    @property
    def state(self) -> LinkState:
        return self.reconnect.state

    # What happened to the connection

    def connecting(self) -> None:
        self._move(self.reconnect.connecting, "connecting")

    def connected(self) -> list[str]:
        """A connection is up: the messages that ask for everything wanted."""
        self.upstream = None  # a new server's upstream is unknown until it says
        self._move(self.reconnect.connected, "connected")
        return self.subscriptions.resubscribe()

    def lost(self, code: int | None, reason: str = "") -> float:
        """The connection closed (`code` None: no close frame); seconds to wait before the next."""
        code = None if code is None else int(code)  # websockets' CloseCode is an IntEnum
        self.last_close_code = code
        previous = self.state
        text = describe_close(code, reason)
        delay = self.reconnect.failed(text)
        if code == SERVICE_RESTART:
            delay = 0.0  # a planned restart: its successor is serving already
        self._changed(previous, text, close_code=code, retry_in_s=delay)
        return delay

    def stalled(self, silence_s: float) -> float:
        """The connection went silent (no frame, no pong) and is dropped."""
        return self.lost(None, f"silent for {silence_s:.1f} s")

    def failed(self, error: BaseException | str) -> float:
        """A connection attempt failed; seconds to wait before the next."""
        previous = self.state
        delay = self.reconnect.failed(error)
        self._changed(previous, self.reconnect.last_error or "failed", retry_in_s=delay)
        return delay

    def refused(self, status: int, reason: str) -> float | None:
        """The handshake was answered with HTTP `status` instead of an upgrade: seconds to wait
        before the next attempt, or None when no retry can help (401, 403: the client stops)."""
        if status in REFUSED_FOR_GOOD:
            self.stopped(reason)
            return None
        return self.failed(reason)

    def stopped(self, reason: str = "closed") -> None:
        self._move(self.reconnect.stopped, reason)

    # What the user asks

    def subscribe(self, names: list[str], key: str | None = None) -> list[str]:
        return self.subscriptions.add(key or self._key(), names)

    def unsubscribe(self, names: list[str], key: str | None = None) -> list[str]:
        return self.subscriptions.remove(key or self._key(), names)

    # What the server sent

    def receive(self, text: str | bytes) -> Frame | None:
        """The frame to give the user, or None (a control frame, a duplicate, an older quote)."""
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the C decoder goes
            self.bad_frames += 1
            return None
        if type(frame) is not dict:
            self.bad_frames += 1
            return None
        kind = frame.get("type")
        if kind == self._data_type:
            quote = frame.get("data") if self._wrapped else frame
            if type(quote) is dict:
                symbol = quote.get("symbol")
                ts = quote.get("ts_upstream")
                if (
                    type(symbol) is str
                    and type(ts) is int
                    and not self.filter.admit_snapshot(symbol, ts, quote.get("price"), quote.get("day_volume"))
                ):
                    return None
            return frame
        self._control(kind, frame)
        return None

    def figures(self) -> dict[str, object]:
        return {
            **self.reconnect.figures(),
            "upstream": self.upstream,
            "last_close_code": self.last_close_code,
            "dropped_repeats": self.filter.dropped,
            "bad_frames": self.bad_frames,
            "server_errors": self.server_errors,
        }

    # Inside

    def _key(self) -> str:
        return next(iter(self.dialect.ops))

    def _control(self, kind: object, frame: Frame) -> None:
        if type(kind) is str and kind in _ACKS:  # a list or dict "type" is not hashable
            return
        if kind == "status":
            upstream = frame.get("upstream")
            self.upstream = upstream if isinstance(upstream, str) else None
            self._emit(UpstreamChanged(self.upstream, frame))
        elif kind == "error":
            self.server_errors += 1
            code, message = str(frame.get("code", "")), str(frame.get("message", ""))
            log.warning("%s: the server says %s: %s", self.name, code, message)
            self._emit(ServerError(code, message))
        # Anything else is a frame type this client does not know yet: skipped.

    def _move(self, step: Callable[[], None], reason: str) -> None:
        previous = self.state
        step()
        self._changed(previous, reason)

    def _changed(
        self, previous: LinkState, reason: str, close_code: int | None = None, retry_in_s: float | None = None
    ) -> None:
        if self.state is not previous:
            self._emit(StateChanged(self.state, previous, reason, close_code, retry_in_s))

    def _emit(self, event: ClientEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # the user's callback must not break the connection
            log.exception("%s: the on_event callback raised on %r", self.name, event)
