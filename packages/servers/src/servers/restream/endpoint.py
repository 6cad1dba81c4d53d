"""The /ws endpoint: one client's requests in, the dispatcher's frames out (servers.ws_session
runs the connection; this module says what restream's requests mean)."""

from __future__ import annotations

from starlette.websockets import WebSocket

from lib_common.core.client_messages import Ping, Subscribe, parse_client_message
from lib_common.core.frame import Frame
from lib_common.core.session import ClientSession
from lib_common.errors import ProtocolError
from servers.restream.config import Tenant
from servers.restream.gateway import Gateway
from servers.ws_session import bearer_token, send_error, serve_client


async def ws_endpoint(websocket: WebSocket) -> None:
    gateway: Gateway = websocket.app.state.gateway
    config = gateway.config
    await serve_client(
        websocket,
        server="restream",
        tenant=config.tenant_for(bearer_token(websocket)),
        admission=gateway.admission,
        dispatcher=gateway.dispatcher,
        clock=gateway.clock,
        client_queue=config.memory.client_queue,
        limits=config.limits,
        handle=lambda tenant, session, text: _handle(gateway, tenant, session, text),
    )


def _handle(gateway: Gateway, tenant: Tenant, session: ClientSession, text: str) -> None:
    limits = gateway.config.limits
    dispatcher = gateway.dispatcher
    try:
        request = parse_client_message(text, max_bytes=limits.max_message_bytes, max_symbols=limits.max_per_message)
    except ProtocolError as exc:
        send_error(dispatcher, session, exc.code, exc.message)
        return
    if isinstance(request, Ping):
        dispatcher.send(session, Frame.control({"type": "pong"}))
        return
    for _, reason in request.invalid:
        send_error(dispatcher, session, "bad_symbols", reason)
    if not request.symbols:
        return
    if isinstance(request, Subscribe):
        added, refused = gateway.subscribe_client(session, tenant, request.symbols)
        for symbol, reason in refused.items():
            send_error(dispatcher, session, "symbol_refused", f"{symbol}: {reason}")
        accepted = [s for s in request.symbols if s not in refused]
        if accepted:
            dispatcher.send(session, Frame.control({"type": "subscribed", "symbols": accepted}))
            gateway.snapshot(session, added)
    else:
        removed = gateway.registry.unsubscribe(session, request.symbols)
        dispatcher.send(session, Frame.control({"type": "unsubscribed", "symbols": removed}))
