"""restream's ASGI application: routes, lifespan, and the HTTP views."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from servers.restream.config import RestreamConfig
from servers.restream.endpoint import ws_endpoint
from servers.restream.gateway import Gateway

DASHBOARD = resources.files("servers.restream").joinpath("dashboard.html")


def create_app(config: RestreamConfig) -> Starlette:
    gateway = Gateway(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    async def dashboard(request: Request) -> Response:
        return HTMLResponse(DASHBOARD.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})

    async def health(request: Request) -> Response:
        # Serving is healthy whatever the upstream does (idle with no subscribers, polling...);
        # the body says what the upstream is doing.
        return JSONResponse(gateway.health(), status_code=200 if gateway.serving else 503)

    async def status(request: Request) -> Response:
        return JSONResponse(gateway.status())

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(gateway.metrics(), media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            Route("/", dashboard),
            Route("/health", health),
            Route("/status", status),
            Route("/metrics", metrics),
            WebSocketRoute("/ws", ws_endpoint),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
