"""redis2ws's ASGI app: the WebSocket on /ws, and /health, /status, /metrics."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from lib_common.core.frame import Frame
from lib_common.core.session import ClientSession
from lib_common.errors import ProtocolError
from servers.http_views import figure_routes, lifespan_of
from servers.redis2ws.bridge import Bridge
from servers.redis2ws.config import BridgeConfig, ChannelTenant
from servers.redis2ws.protocol import parse_request
from servers.ws_session import bearer_token, send_error, serve_client


def create_app(config: BridgeConfig) -> Starlette:
    bridge = Bridge(config)

    def handle(tenant: ChannelTenant, session: ClientSession, text: str) -> None:
        limits = config.limits
        try:
            request = parse_request(text, max_bytes=limits.max_message_bytes, max_names=limits.max_per_message)
        except ProtocolError as exc:
            send_error(bridge.dispatcher, session, exc.code, exc.message)
            return
        if request.op == "ping":
            bridge.dispatcher.send(session, Frame.control({"type": "pong"}))
        else:
            bridge.request(session, tenant, request.op, request.names)

    async def ws_endpoint(websocket: WebSocket) -> None:
        await serve_client(
            websocket,
            server="redis2ws",
            tenant=config.tenant_for(bearer_token(websocket)),
            admission=bridge.admission,
            dispatcher=bridge.dispatcher,
            clock=bridge.clock,
            client_queue=config.memory.client_queue,
            limits=config.limits,
            handle=handle,
        )

    app = Starlette(
        routes=[
            WebSocketRoute("/ws", ws_endpoint),
            *figure_routes(
                health=bridge.health, serving=lambda: bridge.serving, status=bridge.status, metrics=bridge.metrics
            ),
        ],
        lifespan=lifespan_of(bridge.start, bridge.stop),
    )
    app.state.bridge = bridge
    return app
