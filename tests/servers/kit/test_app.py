"""The kit's app: the figure routes and the lifespan, on a tiny inline service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from servers.kit.app import PROMETHEUS_TEXT, create_app
from servers.kit.background import Background

pytestmark = pytest.mark.asyncio


def client_of(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app between its lifespan's start and stop, with a client."""
    async with app.router.lifespan_context(app), client_of(app) as client:
        yield client


class Service:
    def __init__(self) -> None:
        self.serving = False
        self.calls: list[str] = []

    def status(self) -> dict[str, object]:
        return {"answer": 42}

    def metrics(self) -> str:
        return "x_total 1\n"

    async def start(self) -> None:
        self.calls.append("start")
        self.serving = True

    async def stop(self) -> None:
        self.calls.append("stop")
        self.serving = False


async def test_health_follows_serving_and_the_lifespan_starts_and_stops() -> None:
    service = Service()
    app = create_app(service, health=lambda: {"status": "ok" if service.serving else "starting"})
    async with client_of(app) as client:
        assert (await client.get("/health")).status_code == 503
    async with running(app) as client:
        health = await client.get("/health")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert (await client.get("/status")).json() == {"answer": 42}
        metrics = await client.get("/metrics")
        assert metrics.headers["content-type"].startswith(PROMETHEUS_TEXT) and metrics.text.startswith("x_total 1\n")
        assert metrics.text.count("# TYPE process_cpu_seconds_total counter\n") == 1  # the kit adds them once
    assert service.calls == ["start", "stop"] and app.state.service is service


async def test_own_routes_come_first_and_metrics_can_be_left_out() -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    app = create_app(Service(), Route("/", hello), health=dict, metrics=False)
    async with running(app) as client:
        assert (await client.get("/")).text == "hello"
        assert (await client.get("/metrics")).status_code == 404


async def test_background_runs_for_the_app_lifetime() -> None:
    states: list[str] = []
    started = asyncio.Event()

    async def run() -> None:
        states.append("running")
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            states.append("cancelled")

    service = Background(run, name="ticker", status=lambda: {"states": list(states)})
    async with running(create_app(service, health=dict)) as client:
        await asyncio.wait_for(started.wait(), 5)
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/status")).json() == {"states": ["running"]}
    assert states == ["running", "cancelled"] and not service.serving
