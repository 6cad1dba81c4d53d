"""restream's ASGI application: the dashboard on /, the WebSocket on /ws, and the kit's figure routes."""

from __future__ import annotations

from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from servers.kit import app as kit
from servers.kit.http_guard import figures_view
from servers.kit.session import serve_client
from servers.restream.config import RestreamConfig
from servers.restream.endpoint import handle
from servers.restream.gateway import Gateway

DASHBOARD = resources.files("servers.restream").joinpath("dashboard.html")


def create_app(config: RestreamConfig) -> Starlette:
    gateway = Gateway(config)

    async def dashboard(request: Request) -> Response:
        return HTMLResponse(DASHBOARD.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})

    async def ws_endpoint(websocket: WebSocket) -> None:
        await serve_client(websocket, gateway, lambda tenant, session, text: handle(gateway, tenant, session, text))

    # Serving is healthy whatever the upstream does (idle with no subscribers, polling...);
    # the body says what the upstream is doing.
    # The dashboard shows /status: it asks for the figures token when /status does.
    return kit.create_app(
        gateway,
        Route("/", figures_view(config.http, dashboard)),
        WebSocketRoute("/ws", ws_endpoint),
        health=gateway.health,
        http=config.http,
        tls_cert=config.tls_cert,
    )
