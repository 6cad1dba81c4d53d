"""The HTTP side of a durable consumer: /health, /status and /metrics, with the consumer
running as a task for the app's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from servers.durable.consumer import DurableConsumer, State


def create_app(consumer: DurableConsumer) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(consumer.run(), name=f"{consumer.name}-consumer")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def health(request: Request) -> Response:
        # 200 while the process serves: an outage of Redis or the sink is the consumer's to ride
        # out (restarting it would not help), so it shows as "degraded", not as a failure.
        running = consumer.state is State.RUNNING
        body = {
            "status": "ok" if running else "degraded",
            "state": consumer.state.value,
            "last_error": "" if running else consumer.last_error,
            "lag": consumer.lag.lag,
            "retention_warning": consumer.lag.warning,
        }
        return JSONResponse(body)

    async def status(request: Request) -> Response:
        return JSONResponse(consumer.status())

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(consumer.metrics(), media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[Route("/health", health), Route("/status", status), Route("/metrics", metrics)],
        lifespan=lifespan,
    )
