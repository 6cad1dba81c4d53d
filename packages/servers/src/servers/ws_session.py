"""One WebSocket client of a fan-out gateway (restream, redis2ws), from auth to detach.

Auth and the connection limit are checked before the upgrade (401 / 429 as HTTP responses).
After it, every server-to-client frame goes through the dispatcher to the `rsdev.egress`
transport, so replies stay in order with the data and obey the same back-pressure. Floods
(past the tenant's token bucket) are closed with 1008; binary frames get an error frame.
What a text message means is the server's `handle`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket

from lib_common.clock import Clock
from lib_common.core.dispatcher import Dispatcher
from lib_common.core.frame import Frame
from lib_common.core.rate_limit import TokenBucket
from lib_common.core.session import ClientSession
from servers.egress import EXTENSION, GatewayProtocol

log = logging.getLogger(__name__)

FLOOD = (1008, "message flood")


class TenantLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def priority(self) -> int: ...

    @property
    def max_connections(self) -> int: ...


T = TypeVar("T", bound=TenantLike)


class Admission(Generic[T]):
    """Connections per tenant, against each tenant's limit."""

    def __init__(self) -> None:
        self.connections: Counter[str] = Counter()

    def admit(self, tenant: T) -> bool:
        """Count a new connection for the tenant; False when it is at its limit."""
        if self.connections[tenant.name] >= tenant.max_connections:
            return False
        self.connections[tenant.name] += 1
        return True

    def leave(self, tenant: T) -> None:
        self.connections[tenant.name] -= 1


class SessionLimits(Protocol):
    @property
    def messages_per_second(self) -> float: ...

    @property
    def burst(self) -> int: ...


def bearer_token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return websocket.query_params.get("token")


def send_error(dispatcher: Dispatcher, session: ClientSession, code: str, message: str) -> None:
    dispatcher.send(session, Frame.control({"type": "error", "code": code, "message": message}))


async def serve_client(
    websocket: WebSocket,
    *,
    server: str,
    tenant: T | None,
    admission: Admission[T],
    dispatcher: Dispatcher,
    clock: Clock,
    client_queue: int,
    limits: SessionLimits,
    handle: Callable[[T, ClientSession, str], None],
) -> None:
    """Run one client to its end; `tenant` is what its token resolved to (None: refused)."""
    egress = websocket.scope.get("extensions", {}).get(EXTENSION)
    if not isinstance(egress, GatewayProtocol):
        raise RuntimeError(
            f"{server} needs uvicorn with ws={GatewayProtocol.__name__}; the {EXTENSION} scope extension is missing"
        )
    if tenant is None:
        await websocket.send_denial_response(
            PlainTextResponse("invalid or missing token\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        )
        return
    if not admission.admit(tenant):
        await websocket.send_denial_response(
            PlainTextResponse(f"tenant {tenant.name} is at its connection limit\n", status_code=429)
        )
        return
    try:
        await websocket.accept()
        session = ClientSession(egress, tenant=tenant.name, priority=tenant.priority, queue_capacity=client_queue)
        dispatcher.attach(session)
        egress.on_writable = lambda writable: dispatcher.writable(session, writable)
        bucket = TokenBucket(limits.messages_per_second, limits.burst, clock.monotonic())
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if not bucket.take(clock.monotonic()):
                    log.warning("closing %r: message flood", session)
                    dispatcher.close(session, *FLOOD)
                    return
                text = message.get("text")
                if text is None:
                    send_error(
                        dispatcher, session, "bad_message", "binary frames are not part of the protocol; send JSON text"
                    )
                    continue
                handle(tenant, session, text)
        finally:
            egress.on_writable = None
            dispatcher.detach(session)
    finally:
        admission.leave(tenant)
