"""One WebSocket client of a fan-out gateway (restream, redis2ws, server_yahoo), from auth to detach.

Auth and the connection limit are checked before the upgrade (401 / 429 as HTTP responses).
After it, every server-to-client frame goes through the dispatcher to the `rsdev.egress`
transport, so replies stay in order with the data and obey the same back-pressure. Floods
(past the limits' token bucket, which every message and every ping or pong spends from) are
closed with 1008; binary frames get an error frame unless
the server says otherwise. What a text message means is the server's `handle`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket

from lib_common.core.dispatcher import Dispatcher
from lib_common.core.frame import Frame
from lib_common.core.rate_limit import TokenBucket
from lib_common.core.session import ClientSession
from lib_common.errors import ProtocolError
from servers.errors import MissingEgress
from servers.kit.config import Tenant, find_tenant
from servers.kit.egress import EXTENSION, GatewayProtocol

if TYPE_CHECKING:
    from servers.kit.process import FanoutServer

log = logging.getLogger(__name__)

FLOOD = (1008, "message flood")

Handler = Callable[[Tenant, ClientSession, str], None]


class Admission:
    """Connections per tenant, against each tenant's limit."""

    def __init__(self) -> None:
        self.connections: Counter[str] = Counter()

    def admit(self, tenant: Tenant) -> bool:
        """Count a new connection for the tenant; False when it is at its limit."""
        if self.connections[tenant.name] >= tenant.max_connections:
            return False
        self.connections[tenant.name] += 1
        return True

    def leave(self, tenant: Tenant) -> None:
        self.connections[tenant.name] -= 1


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
    server: FanoutServer[Any],
    handle: Handler,
    *,
    on_binary: Callable[[ClientSession], None] | None = None,
) -> None:
    """Run one client to its end: its token picks the tenant among the server's (none
    configured: the open tenant); each text message goes to `handle` (a ProtocolError it raises
    becomes an error frame), each binary one to `on_binary` (default: an error frame)."""
    egress = websocket.scope.get("extensions", {}).get(EXTENSION)
    if not isinstance(egress, GatewayProtocol):
        raise MissingEgress(
            f"{server.name} needs uvicorn with ws={GatewayProtocol.__name__}; "
            f"the {EXTENSION} scope extension is missing"
        )
    tenant = find_tenant(server.config.tenants, bearer_token(websocket))
    if tenant is None:
        await websocket.send_denial_response(
            PlainTextResponse("invalid or missing token\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        )
        return
    if not server.admission.admit(tenant):
        await websocket.send_denial_response(
            PlainTextResponse(f"tenant {tenant.name} is at its connection limit\n", status_code=429)
        )
        return
    dispatcher, clock, limits = server.dispatcher, server.clock, server.config.limits
    session: ClientSession | None = None
    bucket = TokenBucket(limits.messages_per_second, limits.burst, clock.monotonic())

    def spend() -> bool:
        """One message or control frame from the client; False: a flood, now being closed."""
        if bucket.take(clock.monotonic()):
            return True
        if session is not None and not session.closed:
            log.warning("closing %r: message flood", session)
            dispatcher.close(session, *FLOOD)
        return False

    # Counted from the first frame: pings that come in while accept() lets the loop run would
    # otherwise be answered for free, and a flooder's pongs fill the buffer before its session is.
    egress.on_control = spend
    try:
        await websocket.accept()
        session = live = ClientSession(
            egress, tenant=tenant.name, priority=tenant.priority, queue_capacity=server.config.memory.client_queue
        )
        dispatcher.attach(live)
        egress.on_writable = lambda writable: dispatcher.writable(live, writable)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect" or not spend():
                    return
                text = message.get("text")
                if text is not None:
                    try:
                        handle(tenant, live, text)
                    except ProtocolError as exc:  # the client's mistake: it hears why, and stays
                        send_error(dispatcher, live, exc.code, exc.message)
                elif on_binary is not None:
                    on_binary(live)
                else:
                    send_error(
                        dispatcher, live, "bad_message", "binary frames are not part of the protocol; send JSON text"
                    )
        finally:
            egress.on_writable = egress.on_control = None
            dispatcher.detach(live)
    finally:
        server.admission.leave(tenant)
