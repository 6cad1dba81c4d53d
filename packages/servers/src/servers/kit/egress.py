"""uvicorn's WebSocket protocol, opened up so the dispatcher can write frames directly.

ASGI makes every send an awaited message through a per-connection task: a task switch per
client per frame, which is most of the cost of fan-out. This subclass of uvicorn's sans-I/O
protocol hands itself to the application as the `rsdev.egress` scope extension, so the
dispatcher can write pre-built frames straight to the transport, learn about back-pressure
from `pause_writing` / `resume_writing`, and abort a client that stopped reading (ASGI has no
abort). Receiving, the handshake, pings and the closing handshake stay uvicorn's, with two
guards: every ping or pong the client sends is offered to `on_control` (the session's token
bucket, which closes a flood with 1008), and while the transport's writes are paused (its
buffer above the high-water mark: the client is not reading) reading from the client is paused
too, so the pongs uvicorn owes a client that never reads cannot grow the server's memory; the
client's pings wait in the kernel and TCP holds the client back. Once the server's close frame
is out, a peer may send `after_close_bytes` more (what was in flight, and its own close frame);
past that it is aborted instead of read for the rest of the close grace.

Memory (one of these a client, for the connection's life): once the upgrade's response is sent,
uvicorn's reference to it (websockets' Response, headers and all) is dropped, and the request's
parsed headers are cleared: websockets' parser keeps the Request for the connection's life, and
nothing reads it after the handshake (the ASGI scope has its own copy of the headers, which the
app reads): ~3.5 kB a connection (tracemalloc). The ASGI receive events wait in an Inbox
(servers.kit.inbox) instead of uvicorn's asyncio.Queue: another ~3 kB.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, cast

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame
from websockets.http11 import Request
from websockets.server import ServerProtocol

from lib_common.core.fanout import SHUTDOWN
from servers.kit.inbox import Inbox
from servers.kit.ingress import Lease

EXTENSION = "rsdev.egress"

# What this class relies on beyond uvicorn's public surface: the base class's attributes, with
# the types it expects them to have, and the methods it overrides. uvicorn is pinned exactly;
# tests/servers/kit/test_egress.py checks each one on a protocol a real uvicorn server made, so
# an upgrade that renames or retypes one fails naming it.
RELIED_ON: dict[str, type | tuple[type, ...]] = {
    "transport": asyncio.Transport,
    "loop": asyncio.AbstractEventLoop,
    "conn": ServerProtocol,
    "queue": Inbox,  # ours (__init__), in place of uvicorn's asyncio.Queue: see QUEUE_CALLS
    "scope": dict,
    "handshake_complete": bool,
    "close_sent": bool,
    "disconnected": bool,
    "read_paused": bool,
    "writable": asyncio.Event,
    "close_timer": (asyncio.TimerHandle, type(None)),
}
# What uvicorn calls on `self.queue`: all an Inbox offers (the test reads uvicorn's source).
QUEUE_CALLS = frozenset({"put_nowait", "get", "empty", "qsize"})
OVERRIDDEN = (
    "__init__",
    "connection_made",
    "data_received",
    "connection_lost",
    "handle_connect",
    "handle_ping",
    "handle_pong",
    "pause_writing",
    "resume_writing",
    "receive",
    "send",
    "shutdown",
)


class ExposedProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol handing itself to the application as the scope
    extension `extension`, and starting a closing handshake without waiting on the peer."""

    extension = EXTENSION
    lease: Lease | None = None

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.queue = Inbox()  # type: ignore[assignment]  # what uvicorn calls on it: QUEUE_CALLS

    def adopt_lease(self, lease: Lease) -> None:
        """Hold the connection's place in the server's ConnectionGate (servers.kit.ingress
        hands it over on the upgrade) until the socket closes."""
        self.lease = lease

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.lease is not None:
            self.lease.release()

    after_close_bytes = 256 * 1024  # what a peer may still send once our close frame is out
    _read_after_close = 0

    def data_received(self, data: bytes) -> None:
        if self.close_sent:
            # A closing peer sends what was in flight and its own close frame. One that goes on
            # past this is not closing (a flooder told 1008 floods on): parsing it until the close
            # grace ends would spend the server's CPU on it, so the connection is dropped now.
            self._read_after_close += len(data)
            if self._read_after_close > self.after_close_bytes:
                self.transport.abort()
                return
        super().data_received(data)

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # The handshake's request and response are read only until the 101 is sent.
            self.request.headers.clear()
            del self.response

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = cast(dict[str, Any] | None, getattr(self, "scope", None))
        if scope is not None:
            scope["extensions"][self.extension] = self

    def start_close(self, code: int | None, reason: str, *, timeout_s: float, on_timeout: Callable[[], None]) -> None:
        """Send the close frame (`code=None`: an empty one, which the app sees as 1005), tell the
        app the connection is gone, read on for the peer's answer, and `on_timeout` if it has
        not come in `timeout_s`."""
        self.queue.put_nowait(
            {"type": "websocket.disconnect", "code": 1005 if code is None else code, "reason": reason}
        )
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(timeout_s, on_timeout)


class GatewayProtocol(ExposedProtocol):
    """A uvicorn WebSocket protocol that is also the dispatcher's Egress."""

    on_writable: Callable[[bool], None] | None = None
    on_control: Callable[[], bool] | None = None  # a ping or pong came in; False: it is one too many
    high_water_bytes = 64 * 1024
    sndbuf_bytes = 64 * 1024

    @classmethod
    def configured(cls, *, high_water_bytes: int, sndbuf_bytes: int) -> type[GatewayProtocol]:
        """A subclass with these limits: uvicorn instantiates the class itself."""
        attrs = {"high_water_bytes": high_water_bytes, "sndbuf_bytes": sndbuf_bytes}
        return type(cls.__name__, (cls,), attrs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and self.sndbuf_bytes > 0:
            # The kernel would otherwise hide megabytes of a stalled client's backlog from us.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.sndbuf_bytes)
        cast(asyncio.WriteTransport, transport).set_write_buffer_limits(high=self.high_water_bytes)

    def pause_writing(self) -> None:
        super().pause_writing()
        self.transport.pause_reading()
        if self.on_writable is not None:
            self.on_writable(False)

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.read_paused:  # uvicorn's own pause (a message the app has not taken) stands
            self.transport.resume_reading()
        if self.on_writable is not None:
            self.on_writable(True)

    async def receive(self) -> ASGIReceiveEvent:
        message = await super().receive()
        # uvicorn resumes reading once the app has taken every message; not while writes are paused.
        if not self.writable.is_set() and not self.close_sent:
            self.transport.pause_reading()
        return message

    def handle_ping(self) -> None:
        if self.close_sent:
            # Told to go: its pongs (websockets queues one a ping until a close comes in) are
            # dropped, so a flooder cannot fill the buffer and pause reading until the grace ends.
            self.conn.data_to_send()
            return
        if self.on_control is None or self.on_control():
            super().handle_ping()

    def handle_pong(self, event: Frame) -> None:
        if self.on_control is None or self.on_control():
            super().handle_pong(event)

    @property
    def buffered_bytes(self) -> int:
        """Bytes written to the transport and not yet taken by the kernel."""
        return self.transport.get_write_buffer_size()

    leaving = SHUTDOWN  # set to RESTART on the class by a planned restart (kit.serving)

    def shutdown(self) -> None:
        # uvicorn sends 1012 (service restart) always; the contract says 1001 (going away), and
        # 1012 only for a planned restart, when a successor is serving.
        if self.handshake_complete and not self.close_sent and not self.disconnected:
            self.close(*self.leaving)
            return
        super().shutdown()

    # Egress

    def write(self, data: bytes) -> None:
        if not self.close_sent and not self.transport.is_closing():
            self.transport.write(data)

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake without waiting on the peer; abort if it stays silent."""
        if self.close_sent or self.transport.is_closing():
            return
        # A peer that stopped reading never answers: don't let its socket outlive the budget.
        grace = 1.0 if not self.writable.is_set() else 5.0
        self.start_close(code, reason, timeout_s=grace, on_timeout=self.transport.abort)
