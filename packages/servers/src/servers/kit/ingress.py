"""uvicorn's h11 HTTP protocol, with the ConnectionGate and a deadline for the request head.

Every connection of an rsdev server starts here. On accept it is admitted or refused by the
server's ConnectionGate; a refused one is answered (429 or 503, `Connection: close`) when its
request head arrives, and closed if that takes more than a second. An admitted one must send
a complete request head within `handshake_timeout_s` of being accepted, or of its previous
response on a keep-alive connection, or it is closed (slowloris); the first byte does not stop
the clock, as uvicorn's keep-alive timer does. On a WebSocket upgrade the connection's lease on
the gate goes with the transport to the WebSocket protocol (servers.kit.egress), which gives it
back when the socket closes.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from servers.kit.connections import FD_HEADROOM, ConnectionGate, Refusal, fd_limit

log = logging.getLogger(__name__)

FD_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE})
REFUSED_DEADLINE_S = 1.0  # a refused connection's wait for its request head

# What this class relies on beyond uvicorn's public surface (tests/servers/kit/test_ingress.py
# checks each on a protocol a real uvicorn server made, and each override on the base).
RELIED_ON: dict[str, type | tuple[type, ...]] = {
    "transport": asyncio.Transport,
    "loop": asyncio.AbstractEventLoop,
    "conn": h11.Connection,
    "client": (tuple, type(None)),
}
OVERRIDDEN = ("connection_made", "connection_lost", "data_received", "handle_websocket_upgrade", "on_response_complete")


class Lease:
    """One admitted connection's place in the gate; `release` gives it back, once."""

    __slots__ = ("gate", "ip")

    def __init__(self, gate: ConnectionGate, ip: str) -> None:
        self.gate: ConnectionGate | None = gate
        self.ip = ip

    def release(self) -> None:
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.leave(self.ip)


class GatedH11Protocol(H11Protocol):
    gate: ConnectionGate

    @classmethod
    def configured(cls, gate: ConnectionGate) -> type[GatedH11Protocol]:
        """A subclass on this gate: uvicorn instantiates the class itself."""
        return type(cls.__name__, (cls,), {"gate": gate})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease: Lease | None = None
        self.refusal: Refusal | None = None
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ip = self.client[0] if self.client else ""
        self.refusal = self.gate.admit(ip)
        if self.refusal is None:
            self.lease = Lease(self.gate, ip)
            self._arm(self.gate.handshake_timeout_s)
        elif self.refusal is FD_HEADROOM:  # short of descriptors: no waiting for the request
            self._answer(self.refusal)
        else:
            self._arm(min(REFUSED_DEADLINE_S, self.gate.handshake_timeout_s))

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        if self.lease is not None:
            self.lease.release()

    def data_received(self, data: bytes) -> None:
        if self.refusal is not None:
            self._refuse(data, self.refusal)
            return
        super().data_received(data)
        # h11 leaves IDLE when a whole request head has been parsed.
        if self.deadline is not None and self.conn.their_state is not h11.IDLE:
            self._disarm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)
        lease, self.lease = self.lease, None
        adopt = getattr(self.transport.get_protocol(), "adopt_lease", None)
        if lease is not None:
            if callable(adopt):
                adopt(lease)
            else:  # a WebSocket protocol that cannot give it back: stop counting the connection
                lease.release()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():  # kept alive: the next request head has its own deadline
            self._arm(self.gate.handshake_timeout_s)

    # The head's deadline

    def _arm(self, timeout_s: float) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(timeout_s, self._expired)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expired(self) -> None:
        self.deadline = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        if self.refusal is None:
            self.gate.handshake_timeouts += 1
        self.transport.abort()  # nothing to say to a peer that has not asked anything

    def _refuse(self, data: bytes, refusal: Refusal) -> None:
        """Read up to the request head, then answer it with the refusal."""
        if self.transport.is_closing():
            return
        self.conn.receive_data(data)
        try:
            event = self.conn.next_event()
        except h11.RemoteProtocolError:
            self.transport.abort()
            return
        if event is not h11.NEED_DATA:
            self._answer(refusal)

    def _answer(self, refusal: Refusal) -> None:
        self._disarm()
        self.transport.write(refusal_response(refusal))
        self.transport.close()


def refusal_response(refusal: Refusal) -> bytes:
    """The whole HTTP/1.1 response to a refused connection, which is then closed."""
    body = f"{refusal.message}\n".encode()
    retry = "Retry-After: 1\r\n" if refusal.status == 503 else ""
    head = (
        f"HTTP/1.1 {refusal.status} {HTTPStatus(refusal.status).phrase}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n{retry}Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def on_loop_exception(gate: ConnectionGate, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: an accept that failed for lack of descriptors
    (asyncio logs each, with a traceback, up to the listen backlog a second) is counted and
    logged as one line, then a summary at most every ACCEPT_LOG_INTERVAL_S; the rest as asyncio
    would."""
    exc = context.get("exception")
    if not (isinstance(exc, OSError) and exc.errno in FD_ERRNOS):
        loop.default_exception_handler(context)
        return
    quiet = gate.accept_errors.event(loop.time())
    if quiet is None:
        return
    more = f"; {quiet} more since the last such line" if quiet else ""
    log.error(
        "cannot accept a connection: %s (descriptor limit %s, %d connections held); existing connections are served%s",
        exc.strerror,
        fd_limit() or "none",
        gate.open,
        more,
    )
