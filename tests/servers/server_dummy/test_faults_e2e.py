"""Each fault mode as a client sees it, on a real server_dummy process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK

from tests.servers.conftest import ServerProcess
from tests.servers.server_dummy.client import decode_frame, drain, recv_pricing, subscribe


def fault(server: ServerProcess, **body: object) -> dict[str, object]:
    response = httpx.post(server.url("/fault"), json=body, timeout=5)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


@asynccontextmanager
async def subscribed(dummy: ServerProcess) -> AsyncIterator[ClientConnection]:
    """A client subscribed to AAPL that has received its first AAPL pricing."""
    async with connect(dummy.url("/", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        assert (await recv_pricing(ws))["id"] == "AAPL"
        yield ws


async def assert_served(dummy: ServerProcess) -> None:
    """A new client is served again."""
    async with subscribed(dummy):
        pass


@pytest.mark.asyncio
async def test_stall_sends_nothing_until_none(dummy: ServerProcess) -> None:
    async with subscribed(dummy) as ws:
        fault(dummy, mode="stall")
        await drain(ws, 0.2)  # frames already on their way
        assert await drain(ws, 2.0) == []
        fault(dummy, mode="none")
        assert (await recv_pricing(ws))["id"] == "AAPL"


@pytest.mark.asyncio
async def test_stall_holds_new_connections_too(dummy: ServerProcess) -> None:
    fault(dummy, mode="stall")
    async with connect(dummy.url("/", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        assert await drain(ws, 1.0) == []


@pytest.mark.asyncio
async def test_close_ends_connections_cleanly_then_lets_clients_back(dummy: ServerProcess) -> None:
    async with subscribed(dummy) as ws:
        answer = fault(dummy, mode="close")
        assert answer["connections_ended"] == 1 and answer["mode"] == "none"
        with pytest.raises(ConnectionClosedOK) as closed:
            await drain(ws, 5.0)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    await assert_served(dummy)


@pytest.mark.asyncio
async def test_abort_drops_connections_without_a_close_frame(dummy: ServerProcess) -> None:
    async with subscribed(dummy) as ws:
        fault(dummy, mode="abort")
        with pytest.raises(ConnectionClosedError) as lost:
            await drain(ws, 5.0)
        assert lost.value.rcvd is None and lost.value.sent is None


@pytest.mark.asyncio
async def test_persistent_close_keeps_the_stream_down(dummy: ServerProcess) -> None:
    assert fault(dummy, mode="close", persist=True)["mode"] == "close"
    async with connect(dummy.url("/", ws=True)) as ws:
        with pytest.raises(ConnectionClosedOK):
            await drain(ws, 5.0)
    fault(dummy, mode="none")
    await assert_served(dummy)


@pytest.mark.asyncio
async def test_malformed_mixes_bad_frames_with_good_ones(dummy: ServerProcess) -> None:
    async with subscribed(dummy) as ws:
        fault(dummy, mode="malformed")
        good = bad = 0
        for frame in await drain(ws, 1.5):
            try:
                assert decode_frame(frame)["id"] == "AAPL"
                good += 1
            except (ValueError, KeyError):
                bad += 1
        assert good >= 5 and bad >= 5
    sent = dummy.status()["frames_sent"]
    assert isinstance(sent, dict)
    assert all(sent[kind] > 0 for kind in ("bad_base64", "garbage_protobuf", "missing_message", "not_json"))


def test_get_fault_shows_the_mode(dummy: ServerProcess) -> None:
    fault(dummy, mode="malformed")
    assert dummy.get("/fault").json()["mode"] == "malformed"


def test_bad_fault_request_is_400(dummy: ServerProcess) -> None:
    response = httpx.post(dummy.url("/fault"), json={"mode": "explode"}, timeout=5)
    assert response.status_code == 400 and "mode: expected one of" in response.json()["error"]


def test_http_error_fails_polling_endpoints_only(dummy: ServerProcess) -> None:
    fault(dummy, mode="http_error", status=503)
    browser = {"User-Agent": "Mozilla/5.0"}
    chart = httpx.get(dummy.url("/v8/finance/chart/AAPL"), headers=browser, timeout=5)
    assert chart.status_code == 503 and chart.json()["chart"]["result"] is None
    assert httpx.get(dummy.url("/index/fearandgreed/graphdata"), headers=browser, timeout=5).status_code == 503
    assert dummy.get("/health").status_code == 200
    fault(dummy, mode="none")
    assert httpx.get(dummy.url("/v8/finance/chart/AAPL"), headers=browser, timeout=5).status_code == 200


def test_http_429_says_when_to_retry(dummy: ServerProcess) -> None:
    fault(dummy, mode="http_429", retry_after=3)
    response = httpx.get(dummy.url("/v8/finance/chart/AAPL"), headers={"User-Agent": "Mozilla/5.0"}, timeout=5)
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
