"""The /ws endpoint: one client's requests in, the dispatcher's frames out.

Auth and the connection limit are checked before the upgrade (401 / 429 as HTTP responses).
After it, every server-to-client frame goes through the dispatcher to the `rsdev.egress`
transport, so replies stay in order with quotes and obey the same back-pressure.
"""

from __future__ import annotations

import logging

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket

from lib_common.core.client_messages import Ping, Subscribe, parse_client_message
from lib_common.core.frame import Frame
from lib_common.core.rate_limit import TokenBucket
from lib_common.core.session import ClientSession
from lib_common.errors import ProtocolError
from servers.egress import EXTENSION, GatewayProtocol
from servers.restream.config import Tenant
from servers.restream.gateway import Gateway

log = logging.getLogger(__name__)

FLOOD = (1008, "message flood")


def bearer_token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return websocket.query_params.get("token")


async def ws_endpoint(websocket: WebSocket) -> None:
    gateway: Gateway = websocket.app.state.gateway
    egress = websocket.scope.get("extensions", {}).get(EXTENSION)
    if not isinstance(egress, GatewayProtocol):
        raise RuntimeError(
            f"restream needs uvicorn with ws={GatewayProtocol.__name__}; the {EXTENSION} scope extension is missing"
        )
    tenant = gateway.config.tenant_for(bearer_token(websocket))
    if tenant is None:
        await websocket.send_denial_response(
            PlainTextResponse("invalid or missing token\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        )
        return
    if not gateway.admit(tenant):
        await websocket.send_denial_response(
            PlainTextResponse(f"tenant {tenant.name} is at its connection limit\n", status_code=429)
        )
        return
    try:
        await websocket.accept()
        await _serve(gateway, tenant, egress, websocket)
    finally:
        gateway.leave(tenant)


async def _serve(gateway: Gateway, tenant: Tenant, egress: GatewayProtocol, websocket: WebSocket) -> None:
    config = gateway.config
    dispatcher = gateway.dispatcher
    session = ClientSession(
        egress, tenant=tenant.name, priority=tenant.priority, queue_capacity=config.memory.client_queue
    )
    dispatcher.attach(session)
    egress.on_writable = lambda writable: dispatcher.writable(session, writable)
    bucket = TokenBucket(config.limits.messages_per_second, config.limits.burst, gateway.clock.monotonic())
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not bucket.take(gateway.clock.monotonic()):
                log.warning("closing %r: message flood", session)
                dispatcher.close(session, *FLOOD)
                return
            text = message.get("text")
            if text is None:
                _error(gateway, session, "bad_message", "binary frames are not part of the protocol; send JSON text")
                continue
            _handle(gateway, tenant, session, text)
    finally:
        egress.on_writable = None
        dispatcher.detach(session)


def _handle(gateway: Gateway, tenant: Tenant, session: ClientSession, text: str) -> None:
    limits = gateway.config.limits
    dispatcher = gateway.dispatcher
    try:
        request = parse_client_message(
            text, max_bytes=limits.max_message_bytes, max_symbols=limits.max_symbols_per_message
        )
    except ProtocolError as exc:
        _error(gateway, session, exc.code, exc.message)
        return
    if isinstance(request, Ping):
        dispatcher.send(session, Frame.control({"type": "pong"}))
        return
    for _, reason in request.invalid:
        _error(gateway, session, "bad_symbols", reason)
    if not request.symbols:
        return
    if isinstance(request, Subscribe):
        added, refused = gateway.subscribe_client(session, tenant, request.symbols)
        for symbol, reason in refused.items():
            _error(gateway, session, "symbol_refused", f"{symbol}: {reason}")
        accepted = [s for s in request.symbols if s not in refused]
        if accepted:
            dispatcher.send(session, Frame.control({"type": "subscribed", "symbols": accepted}))
            gateway.snapshot(session, added)
    else:
        removed = gateway.registry.unsubscribe(session, request.symbols)
        dispatcher.send(session, Frame.control({"type": "unsubscribed", "symbols": removed}))


def _error(gateway: Gateway, session: ClientSession, code: str, message: str) -> None:
    gateway.dispatcher.send(session, Frame.control({"type": "error", "code": code, "message": message}))
