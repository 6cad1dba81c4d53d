"""Fault injection state: what the stream and the polling endpoints do wrong, set by `POST /fault`.

Two independent slots, so a test can break the stream while polling works, or both:

stream  none       frames flow.
        stall      connections stay open and are read, but nothing is sent (new ones too)
                   until the mode changes. The walk goes on, so prices jump on resume.
        malformed  after every good frame, a broken one (cycling through `Malformed`'s kinds).
        close      one-shot: every open connection gets a clean close (1000), then the mode is
                   back to none, so a client can reconnect and get data.
        abort      one-shot: every open connection is reset (TCP RST, no close frame), then none.
        With `"persist": true`, close and abort stay in force: each new connection is closed or
        reset right after its handshake, until the mode changes ("the stream stays down").
http    http_error chart and graphdata answer `status` (default 503).
        http_429   chart and graphdata answer 429 with `Retry-After: retry_after` (default 1 s).
`{"mode": "none"}` clears both slots; any other mode changes only its own slot.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from servers.server_dummy.pricing import Malformed

log = logging.getLogger(__name__)


class StreamFault(enum.StrEnum):
    NONE = "none"
    STALL = "stall"
    MALFORMED = "malformed"
    CLOSE = "close"
    ABORT = "abort"


class HttpFault(enum.StrEnum):
    NONE = "none"
    HTTP_ERROR = "http_error"
    HTTP_429 = "http_429"


MODES = ("none", *(m.value for m in StreamFault if m is not StreamFault.NONE), "http_error", "http_429")
ONE_SHOT = (StreamFault.CLOSE, StreamFault.ABORT)
_REQUEST_KEYS = ("mode", "persist", "status", "retry_after")


class FaultRequestError(ValueError):
    """A `POST /fault` body that is not a fault this server knows."""


@dataclass(frozen=True, slots=True)
class FaultRequest:
    mode: str
    persist: bool = False
    status: int = 503
    retry_after: int = 1

    @classmethod
    def parse(cls, body: object) -> FaultRequest:
        if not isinstance(body, dict):
            raise FaultRequestError(f'expected a JSON object like {{"mode": "stall"}}, found {type(body).__name__}')
        unknown = sorted(set(body) - set(_REQUEST_KEYS))
        if unknown:
            raise FaultRequestError(f"unknown key {unknown[0]!r}; expected {', '.join(_REQUEST_KEYS)}")
        mode = body.get("mode")
        if mode not in MODES:
            raise FaultRequestError(f"mode: expected one of {', '.join(MODES)}, found {mode!r}")
        persist = body.get("persist", False)
        if not isinstance(persist, bool):
            raise FaultRequestError(f"persist: expected true or false, found {persist!r}")
        if persist and mode not in ONE_SHOT:
            raise FaultRequestError(f"persist: only close and abort take it, found mode {mode!r}")
        status = body.get("status", 503)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultRequestError(f"status: expected an HTTP error status 400..599, found {status!r}")
        retry_after = body.get("retry_after", 1)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise FaultRequestError(f"retry_after: expected whole seconds >= 0, found {retry_after!r}")
        return cls(mode=mode, persist=persist, status=status, retry_after=retry_after)


class Faults:
    """The current faults; the hub asks it what to do with each frame and each new connection."""

    def __init__(self) -> None:
        self.stream = StreamFault.NONE
        self.persist = False
        self.http = HttpFault.NONE
        self.http_status = 503
        self.retry_after = 1
        self._malformed_next = 0

    def apply(self, request: FaultRequest) -> StreamFault | None:
        """Take a request; returns close or abort when every open connection must get it now."""
        if request.mode == "none":
            self._set_stream(StreamFault.NONE, persist=False)
            self._set_http(HttpFault.NONE)
            return None
        if request.mode in (HttpFault.HTTP_ERROR, HttpFault.HTTP_429):
            self.http_status, self.retry_after = request.status, request.retry_after
            self._set_http(HttpFault(request.mode))
            return None
        mode = StreamFault(request.mode)
        if mode in ONE_SHOT:
            self._set_stream(mode if request.persist else StreamFault.NONE, persist=request.persist)
            return mode
        self._set_stream(mode, persist=False)
        return None

    @property
    def stalled(self) -> bool:
        return self.stream is StreamFault.STALL

    @property
    def malformed(self) -> bool:
        return self.stream is StreamFault.MALFORMED

    @property
    def on_connect(self) -> StreamFault | None:
        """What a new connection gets right after its handshake: a persistent close or abort."""
        return self.stream if self.persist else None

    def next_malformed(self) -> Malformed:
        kinds = list(Malformed)
        kind = kinds[self._malformed_next % len(kinds)]
        self._malformed_next += 1
        return kind

    def describe(self) -> dict[str, object]:
        return {
            "mode": self.stream.value,
            "persist": self.persist,
            "http": {"mode": self.http.value, "status": self.http_status, "retry_after": self.retry_after},
        }

    def _set_stream(self, mode: StreamFault, *, persist: bool) -> None:
        if (mode, persist) != (self.stream, self.persist):
            log.info("stream fault: %s -> %s%s", self.stream, mode, " (persistent)" if persist else "")
        self.stream, self.persist = mode, persist

    def _set_http(self, mode: HttpFault) -> None:
        if mode is not self.http:
            log.info("http fault: %s -> %s", self.http, mode)
        self.http = mode
