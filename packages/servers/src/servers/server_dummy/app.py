"""server_dummy's ASGI application: the streamer on `/`, Yahoo's and CNN's HTTP endpoints, and the fault API.

`POST /fault` takes a JSON body (Content-Type application/json, at most 16 KiB: servers.kit.
json_body). HTTP faults (`http_error`, `http_429`) touch only the endpoints a poller reads (chart and
graphdata); /health, /status and /fault always answer, so a test can undo what it did.
"""

from __future__ import annotations

from datetime import date

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from lib_common.clock import Clock, LoopClock
from servers.kit.app import create_app as kit_create_app
from servers.kit.background import Background
from servers.kit.json_body import BodyRefused, read_json
from servers.server_dummy import chart, fear_greed
from servers.server_dummy.book import PriceBook
from servers.server_dummy.config import DummyConfig
from servers.server_dummy.endpoint import streamer
from servers.server_dummy.faults import FaultRequest, FaultRequestError, Faults, HttpFault
from servers.server_dummy.hub import Hub

SUPPORTED_INTERVALS = ("1m",)
MAX_FAULT_BODY = 16 * 1024


def _browser_like(request: Request) -> bool:
    return "mozilla/" in request.headers.get("user-agent", "").lower()


def _injected(faults: Faults, *, chart_shape: bool) -> Response | None:
    """The response an HTTP fault replaces the real one with, if any."""
    if faults.http is HttpFault.HTTP_429:
        headers = {"Retry-After": str(faults.retry_after)}
        return PlainTextResponse("Too Many Requests\r\n", status_code=429, headers=headers)
    if faults.http is HttpFault.HTTP_ERROR:
        status = faults.http_status
        if chart_shape:
            return JSONResponse(chart.status_error(status), status_code=status)
        return PlainTextResponse(f"server_dummy fault: HTTP {status}\n", status_code=status)
    return None


def create_app(config: DummyConfig, clock: Clock | None = None) -> Starlette:
    clock = clock or LoopClock()
    faults = Faults()
    book = PriceBook(clock, rate=config.rate, seed=config.seed, unknown=config.unknown_symbols)
    hub = Hub(book, faults, max_symbols=config.max_symbols)

    def health() -> dict[str, object]:
        return {"status": "ok", "connections": hub.connection_count, "fault": faults.stream.value}

    def status() -> dict[str, object]:
        return {**hub.status(), "rate": config.rate, "max_symbols": config.max_symbols}

    async def fault(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(faults.describe())
        try:
            parsed = FaultRequest.parse(await read_json(request, max_bytes=MAX_FAULT_BODY))
        except BodyRefused as exc:
            return exc.response()
        except FaultRequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(hub.set_fault(parsed))

    async def chart_view(request: Request) -> Response:
        if not request.headers.get("user-agent"):
            return PlainTextResponse("Too Many Requests\r\n", status_code=429)  # Yahoo's answer to no User-Agent
        injected = _injected(faults, chart_shape=True)
        if injected is not None:
            return injected
        interval = request.query_params.get("interval", "1m")
        range_ = request.query_params.get("range", "1d")
        if interval not in SUPPORTED_INTERVALS or range_ not in chart.VALID_RANGES:
            description = (
                f"Invalid input - interval={interval}, range={range_}; server_dummy serves interval "
                f"{', '.join(SUPPORTED_INTERVALS)} and range {', '.join(chart.VALID_RANGES)}"
            )
            return JSONResponse(chart.chart_error("Bad Request", description), status_code=400)
        symbol = request.path_params["symbol"].strip().upper()
        snapshot = book.latest(symbol)
        if snapshot is None:
            return JSONResponse(chart.not_found(), status_code=404)
        body = chart.chart_body(snapshot, book.bars(symbol), interval=interval, range_=range_)
        return JSONResponse(body)

    async def graphdata(request: Request) -> Response:
        if not _browser_like(request):
            return PlainTextResponse("I'm a teapot. You're a bot.\n", status_code=418)  # CNN's bot check
        injected = _injected(faults, chart_shape=False)
        if injected is not None:
            return injected
        start: date | None = None
        if "date" in request.path_params:
            try:
                start = date.fromisoformat(request.path_params["date"])
            except ValueError:
                found = request.path_params["date"]
                return PlainTextResponse(f"expected a date YYYY-MM-DD, found {found!r}\n", status_code=400)
        return JSONResponse(fear_greed.graphdata(clock.now_us() // 1000, start))

    # The price book ticks for the app's lifetime; server_dummy has no /metrics.
    app = kit_create_app(
        Background(book.run, name="server_dummy.book", status=status),
        WebSocketRoute("/", streamer),
        Route("/fault", fault, methods=["GET", "POST"]),
        Route("/v8/finance/chart/{symbol}", chart_view),
        Route("/index/fearandgreed/graphdata", graphdata),
        Route("/index/fearandgreed/graphdata/{date}", graphdata),
        health=health,
        metrics=False,
        http=config.http,
    )
    app.state.hub = hub
    return app
