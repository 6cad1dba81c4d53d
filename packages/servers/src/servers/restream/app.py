"""restream's ASGI application: routes, lifespan, and the HTTP views."""

from __future__ import annotations

from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute

from servers.http_views import figure_routes, lifespan_of
from servers.restream.config import RestreamConfig
from servers.restream.endpoint import ws_endpoint
from servers.restream.gateway import Gateway

DASHBOARD = resources.files("servers.restream").joinpath("dashboard.html")


def create_app(config: RestreamConfig) -> Starlette:
    gateway = Gateway(config)

    async def dashboard(request: Request) -> Response:
        return HTMLResponse(DASHBOARD.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})

    app = Starlette(
        routes=[
            Route("/", dashboard),
            # Serving is healthy whatever the upstream does (idle with no subscribers, polling...);
            # the body says what the upstream is doing.
            *figure_routes(
                health=gateway.health,
                serving=lambda: gateway.serving,
                status=gateway.status,
                metrics=gateway.metrics,
            ),
            WebSocketRoute("/ws", ws_endpoint),
        ],
        lifespan=lifespan_of(gateway.start, gateway.stop),
    )
    app.state.gateway = gateway
    return app
