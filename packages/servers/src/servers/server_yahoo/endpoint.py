"""The client side: Yahoo's streamer protocol on `/` (also `/?version=2`).

    {"subscribe": ["AAPL", "BTC-USD"]}      {"unsubscribe": ["AAPL"]}

Yahoo closes the socket on a malformed request; the proxy keeps the client and ignores the
message (Yahoo's protocol has no error frame), logging and counting it, so one bad message
costs a client nothing it already had.
"""

from __future__ import annotations

import json
import logging

from starlette.websockets import WebSocket

from lib_common.core.client_messages import SYMBOL_RE
from lib_common.core.session import ClientSession
from servers.egress import EXTENSION, GatewayProtocol
from servers.server_yahoo.proxy import Proxy

log = logging.getLogger(__name__)


def parse_request(text: str) -> tuple[str, list[str]]:
    """("subscribe" | "unsubscribe", symbols); ValueError says what is wrong."""
    try:
        body = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    for op in ("subscribe", "unsubscribe"):
        if op in body:
            symbols = body[op]
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                raise ValueError(f"{op} is not a list of strings")
            cleaned = [s.strip().upper() for s in symbols]
            return op, [s for s in dict.fromkeys(cleaned) if SYMBOL_RE.fullmatch(s)]
    raise ValueError("neither subscribe nor unsubscribe")


async def yahoo_endpoint(websocket: WebSocket) -> None:
    proxy: Proxy = websocket.app.state.proxy
    egress = websocket.scope.get("extensions", {}).get(EXTENSION)
    if not isinstance(egress, GatewayProtocol):
        raise RuntimeError(f"server_yahoo needs uvicorn with ws={GatewayProtocol.__name__}")
    await websocket.accept()
    dispatcher = proxy.fanout.dispatcher
    registry = proxy.fanout.registry
    session = ClientSession(egress, queue_capacity=proxy.config.client_queue)
    dispatcher.attach(session)
    egress.on_writable = lambda writable: dispatcher.writable(session, writable)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            try:
                if text is None:
                    raise ValueError("binary frame")
                op, symbols = parse_request(text)
            except ValueError as exc:
                proxy.bad_requests[str(exc)] += 1
                log.warning("client %d: ignoring a bad request (%s)", session.id, exc)
                continue
            if op == "subscribe":
                added = registry.subscribe(session, symbols)
                proxy.fanout.snapshot(session, added)
            else:
                registry.unsubscribe(session, symbols)
    finally:
        egress.on_writable = None
        dispatcher.detach(session)
