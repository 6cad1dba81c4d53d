"""One ASGI app for every rsdev server: its own routes, plus /health, /status and /metrics, and
a lifespan that starts and stops the service.

/health answers 200 while the service says it is serving, else 503, with the body its
`health` gives; /status is JSON; /metrics is Prometheus text. A service that is a coroutine
running for the app's lifetime (a durable consumer, server_dummy's price book) is a
servers.kit.background.Background.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

PROMETHEUS_TEXT = "text/plain; version=0.0.4"

Figures = Callable[[], dict[str, object]]


class Service(Protocol):
    @property
    def serving(self) -> bool: ...

    def status(self) -> dict[str, object]: ...

    def metrics(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def create_app(service: Service, *routes: BaseRoute, health: Figures, metrics: bool = True) -> Starlette:
    """`routes`, then the figure routes (/metrics only with `metrics`); `app.state.service` is
    the service."""

    async def health_view(request: Request) -> Response:
        return JSONResponse(health(), status_code=200 if service.serving else 503)

    async def status_view(request: Request) -> Response:
        return JSONResponse(service.status())

    async def metrics_view(request: Request) -> Response:
        return PlainTextResponse(service.metrics(), media_type=PROMETHEUS_TEXT)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    figure_routes = [Route("/health", health_view), Route("/status", status_view)]
    if metrics:
        figure_routes.append(Route("/metrics", metrics_view))
    app = Starlette(routes=[*routes, *figure_routes], lifespan=lifespan)
    app.state.service = service
    return app
