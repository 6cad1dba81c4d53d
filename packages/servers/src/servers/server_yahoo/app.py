"""server_yahoo's ASGI app: the Yahoo-protocol WebSocket on `/`, and /health, /status, /metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from servers.server_yahoo.config import ProxyConfig
from servers.server_yahoo.endpoint import yahoo_endpoint
from servers.server_yahoo.proxy import Proxy


def create_app(config: ProxyConfig) -> Starlette:
    proxy = Proxy(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await proxy.start()
        try:
            yield
        finally:
            await proxy.stop()

    async def health(request: Request) -> Response:
        body = {
            "status": "ok" if proxy.serving else "starting",
            "upstream_connected": proxy.streamer.status().connected,
        }
        return JSONResponse(body, status_code=200 if proxy.serving else 503)

    async def status(request: Request) -> Response:
        return JSONResponse(proxy.status())

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(proxy.metrics(), media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            WebSocketRoute("/", yahoo_endpoint),
            Route("/health", health),
            Route("/status", status),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
    app.state.proxy = proxy
    return app
