"""What every fan-out gateway's process shares: lifespan, /health, /status, /metrics, and
running it under uvicorn with the direct-write WebSocket protocol."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from servers.egress import GatewayProtocol
from servers.serving import serve

PROMETHEUS_TEXT = "text/plain; version=0.0.4"
MAX_WS_MESSAGE = 1 << 20  # larger messages close with 1009; up to it they get an error frame


class GatewayListen(Protocol):
    """The parts of a gateway's config that say how it listens."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def tls_cert(self) -> Path | None: ...

    @property
    def tls_key(self) -> Path | None: ...

    @property
    def log_level(self) -> str: ...


def serve_gateway(app: object, config: GatewayListen, *, high_water_bytes: int, sndbuf_bytes: int) -> None:
    """Run a fan-out gateway until SIGTERM/SIGINT: WSS when the config has a certificate."""
    protocol = GatewayProtocol.configured(high_water_bytes=high_water_bytes, sndbuf_bytes=sndbuf_bytes)
    serve(
        app,
        host=config.host,
        port=config.port,
        ws=protocol,
        log_level=config.log_level,
        ws_max_size=MAX_WS_MESSAGE,
        ssl_certfile=config.tls_cert,
        ssl_keyfile=config.tls_key,
        backlog=4096,
    )


def lifespan_of(
    start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await start()
        try:
            yield
        finally:
            await stop()

    return lifespan


def figure_routes(
    *,
    health: Callable[[], dict[str, object]],
    serving: Callable[[], bool],
    status: Callable[[], dict[str, object]],
    metrics: Callable[[], str],
) -> list[Route]:
    """/health (200 while serving, else 503), /status (JSON), /metrics (Prometheus text)."""

    async def health_view(request: Request) -> Response:
        return JSONResponse(health(), status_code=200 if serving() else 503)

    async def status_view(request: Request) -> Response:
        return JSONResponse(status())

    async def metrics_view(request: Request) -> Response:
        return PlainTextResponse(metrics(), media_type=PROMETHEUS_TEXT)

    return [Route("/health", health_view), Route("/status", status_view), Route("/metrics", metrics_view)]
