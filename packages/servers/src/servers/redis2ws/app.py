"""redis2ws's ASGI app: the WebSocket on /ws, and the kit's figure routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from lib_common.core.frame import Frame
from lib_common.core.session import ClientSession
from servers.kit import app as kit
from servers.kit.config import Tenant
from servers.kit.session import serve_client
from servers.redis2ws.bridge import Bridge
from servers.redis2ws.config import BridgeConfig
from servers.redis2ws.protocol import parse_request


def create_app(config: BridgeConfig) -> Starlette:
    bridge = Bridge(config)
    limits = config.limits

    def handle(tenant: Tenant, session: ClientSession, text: str) -> None:
        request = parse_request(text, max_bytes=limits.max_message_bytes, max_names=limits.max_per_message)
        if request.op == "ping":
            bridge.dispatcher.send(session, Frame.control({"type": "pong"}))
        else:
            bridge.request(session, tenant, request.op, request.names)

    async def ws_endpoint(websocket: WebSocket) -> None:
        await serve_client(websocket, bridge, handle)

    return kit.create_app(
        bridge, WebSocketRoute("/ws", ws_endpoint), health=bridge.health, http=config.http, tls_cert=config.tls_cert
    )
