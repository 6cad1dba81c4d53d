"""What a client tells its user besides the data: each one an event, never an exception.

`Client(on_event=...)` calls the callback with each of these as it happens (an exception the
callback raises is logged and dropped); `Client.state` and `Client.upstream` hold the latest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib_common.core.reconnect import LinkState


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The connection moved: idle → connecting → connected → backoff → connecting → ...

    `reason` says why in words ("closed 1012 (service restart)", "silent for 10.0 s", ...);
    `close_code` is the WebSocket close code that ended a connection, when there was one;
    `retry_in_s` the wait before the next attempt when the state is BACKOFF.
    """

    state: LinkState
    previous: LinkState
    reason: str
    close_code: int | None = None
    retry_in_s: float | None = None


@dataclass(frozen=True, slots=True)
class UpstreamChanged:
    """The server's upstream changed state (restream's `{"type": "status", ...}` frame):
    `upstream` is its new state ("streaming", "reconnecting", "polling", ...), `frame` the
    status frame as sent (previous, reason, ts)."""

    upstream: str | None
    frame: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServerError:
    """An `error` frame: the server refused something the client sent (a symbol it does not
    serve, a limit); the connection stays up."""

    code: str
    message: str


ClientEvent = StateChanged | UpstreamChanged | ServerError
