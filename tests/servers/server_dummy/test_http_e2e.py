"""Yahoo's chart API and CNN's Fear & Greed as server_dummy serves them over HTTP."""

from __future__ import annotations

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.servers.conftest import ServerProcess
from tests.servers.server_dummy.client import DUMMY_INDICATORS, recv_pricing, subscribe

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"}


def get(server: ServerProcess, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(server.url(path), headers=BROWSER if headers is None else headers, timeout=5)


def test_health(dummy: ServerProcess) -> None:
    response = dummy.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_chart_has_yahoos_shape(dummy: ServerProcess) -> None:
    body = get(dummy, "/v8/finance/chart/AAPL?interval=1m&range=1d").json()
    assert body["chart"]["error"] is None
    (result,) = body["chart"]["result"]
    meta = result["meta"]
    assert meta["symbol"] == "AAPL" and meta["currency"] == "USD" and meta["exchangeName"] == "NMS"
    assert meta["exchangeTimezoneName"] == "America/New_York"
    for key in ("regularMarketPrice", "chartPreviousClose", "previousClose"):
        assert isinstance(meta[key], float)
    assert isinstance(meta["regularMarketTime"], int) and isinstance(meta["regularMarketVolume"], int)
    for period in ("pre", "regular", "post"):
        assert set(meta["currentTradingPeriod"][period]) == {"start", "end", "timezone", "gmtoffset"}
    quote = result["indicators"]["quote"][0]
    assert set(quote) == {"open", "high", "low", "close", "volume"}
    assert all(len(series) == len(result["timestamp"]) >= 5 for series in quote.values())
    assert quote["close"][-1] == meta["regularMarketPrice"]


@pytest.mark.asyncio
async def test_chart_agrees_with_the_stream(dummy: ServerProcess) -> None:
    async with connect(dummy.url("/", ws=True)) as ws:
        await subscribe(ws, "TSLA")
        streamed = await recv_pricing(ws)
        meta = get(dummy, "/v8/finance/chart/TSLA").json()["chart"]["result"][0]["meta"]
    # One or two steps of the walk apart at most (float32 on the wire, ~0.01% a step).
    assert meta["regularMarketPrice"] == pytest.approx(streamed["price"], rel=1e-3)
    assert meta["previousClose"] == pytest.approx(streamed["previous_close"], rel=1e-6)


@pytest.mark.parametrize("symbol", ["DELISTED", "NO$SUCH"])
def test_unknown_symbol_gets_yahoos_404(dummy: ServerProcess, symbol: str) -> None:
    response = get(dummy, f"/v8/finance/chart/{symbol}")
    assert response.status_code == 404
    error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
    assert response.json() == {"chart": {"result": None, "error": error}}


def test_unsupported_interval_is_400(dummy: ServerProcess) -> None:
    response = get(dummy, "/v8/finance/chart/AAPL?interval=7m")
    assert response.status_code == 400 and response.json()["chart"]["error"]["code"] == "Bad Request"


def test_chart_without_user_agent_is_rate_limited(dummy: ServerProcess) -> None:
    response = httpx.get(dummy.url("/v8/finance/chart/AAPL"), headers={"User-Agent": ""}, timeout=5)
    assert response.status_code == 429


def test_graphdata_has_cnns_shape(dummy: ServerProcess) -> None:
    body = get(dummy, "/index/fearandgreed/graphdata").json()
    assert {"score", "rating", "timestamp", "previous_close", "previous_1_week"} <= set(body["fear_and_greed"])
    for name in ("fear_and_greed_historical", *DUMMY_INDICATORS):
        assert set(body[name]) == {"timestamp", "score", "rating", "data"}
        assert set(body[name]["data"][0]) == {"x", "y", "rating"}


def test_graphdata_from_a_date(dummy: ServerProcess) -> None:
    body = get(dummy, "/index/fearandgreed/graphdata/2025-01-02").json()
    assert body["fear_and_greed_historical"]["data"][0]["x"] == 1_735_776_000_000  # 2025-01-02 00:00 UTC


def test_graphdata_bad_date_is_400(dummy: ServerProcess) -> None:
    assert get(dummy, "/index/fearandgreed/graphdata/yesterday").status_code == 400


def test_graphdata_refuses_non_browsers_with_418(dummy: ServerProcess) -> None:
    assert dummy.get("/index/fearandgreed/graphdata").status_code == 418  # httpx's own User-Agent
