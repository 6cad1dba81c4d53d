"""One ASGI app for every rsdev server: its own routes, plus /health, /status and /metrics, and
a lifespan that starts and stops the service.

/health answers 200 while the service says it is serving, else 503, with the body its
`health` gives; /status is JSON; /metrics is Prometheus text: the service's own figures, then
the process_* figures every exporter has (servers.kit.process_metrics), added here once for all.
A service that is a coroutine running for the app's lifetime (a durable consumer, server_dummy's
price book) is a servers.kit.background.Background.

In front of every route, servers.kit.http_guard checks the Host header (400) and, on WebSocket
upgrades and POSTs, the Origin (403); with `http.figures_token` configured, /status and /metrics
(and what a server marks with `figures_view`, like restream's dashboard) answer 401 without it.
/health stays open: supervisors and load balancers probe it. At start the app warns when its
figures are open on a non-loopback address, and when its TLS certificate has expired or
expires within 14 days (servers.kit.tls).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from servers.kit import tls
from servers.kit.http_guard import HttpGuard, figures_view
from servers.kit.http_policy import HttpPolicy, is_loopback
from servers.kit.process_metrics import process_metrics

log = logging.getLogger(__name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4"

Figures = Callable[[], dict[str, object]]


class Service(Protocol):
    @property
    def serving(self) -> bool: ...

    def status(self) -> dict[str, object]: ...

    def metrics(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def start_warnings(policy: HttpPolicy, tls_cert: Path | None, now: datetime) -> list[str]:
    """What a server warns about as it starts."""
    warnings = []
    if policy.figures_token is None and not is_loopback(policy.listen_host):
        warnings.append(
            f"listening on {policy.listen_host}: /status and /metrics are open to anyone who can reach it; "
            "set http.figures_token to ask for a token"
        )
    notice = None if tls_cert is None else tls.expiry_notice(tls_cert, now)
    if notice is not None:
        warnings.append(notice)
    return warnings


def create_app(
    service: Service,
    *routes: BaseRoute,
    health: Figures,
    metrics: bool = True,
    http: HttpPolicy | None = None,
    tls_cert: Path | None = None,
) -> Starlette:
    """`routes`, then the figure routes (/metrics only with `metrics`), behind the `http` policy
    (default: the server's own hosts and origins, figures open); `tls_cert` is the certificate
    served, if any; `app.state.service` is the service."""
    policy = http or HttpPolicy()

    async def health_view(request: Request) -> Response:
        return JSONResponse(health(), status_code=200 if service.serving else 503)

    async def status_view(request: Request) -> Response:
        return JSONResponse(service.status())

    async def metrics_view(request: Request) -> Response:
        return PlainTextResponse(service.metrics() + process_metrics(), media_type=PROMETHEUS_TEXT)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        for warning in start_warnings(policy, tls_cert, datetime.now(UTC)):
            log.warning("%s", warning)
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    figure_routes = [Route("/health", health_view), Route("/status", figures_view(policy, status_view))]
    if metrics:
        figure_routes.append(Route("/metrics", figures_view(policy, metrics_view)))
    guard = Middleware(HttpGuard, policy=policy)
    app = Starlette(routes=[*routes, *figure_routes], middleware=[guard], lifespan=lifespan)
    app.state.service = service
    return app
