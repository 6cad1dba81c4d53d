"""restream --feed yahoo on server_dummy: real processes, real faults, real clients.

The feed is configured with `hours: "always"` so that silence counts as failure whatever the
wall clock says (with NYSE hours a weekend run would rightly never fail over).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.servers.conftest import ServerProcess, StartRestream, StartServerDummy
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe
from tests.servers.server_dummy.client import decode_frame

pytestmark = pytest.mark.asyncio

INACTIVITY_S = 1.5
SYMBOLS = ("AAPL", "MSFT")


def yahoo_config(dummy: ServerProcess) -> dict[str, object]:
    return {
        "feed": {
            "kind": "yahoo",
            "upstream_url": dummy.url("/?version=2", ws=True),
            "inactivity_timeout_s": INACTIVITY_S,
            "failover_after_s": 1,
            "poll_interval_s": 0.5,
            "hours": "always",
        },
        "registry": {"linger_s": 1},
    }


def fault(dummy: ServerProcess, mode: str) -> None:
    response = httpx.post(dummy.url("/fault"), json={"mode": mode}, timeout=5)
    assert response.status_code == 200, response.text


class Watch:
    """Everything one client receives, checked as it arrives: per symbol, never back in time and
    never the same snapshot twice, whichever source it came from."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.quotes: list[dict[str, Any]] = []
        self.statuses: list[str] = []
        self._last: dict[str, tuple[int, float]] = {}

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if message["type"] == "status":
            self.statuses.append(message["upstream"])
        elif message["type"] == "quote":
            key = (message["ts_upstream"], message["price"])
            last = self._last.get(message["symbol"])
            assert last is None or (key[0] >= last[0] and key != last), f"{message} after {last}"
            self._last[message["symbol"]] = key
            self.quotes.append(message)
        return message

    async def until_status(self, state: str, timeout: float) -> float:
        started = time.monotonic()
        async with asyncio.timeout(timeout):
            while not self.statuses or self.statuses[-1] != state:
                await self.next(timeout)
        return time.monotonic() - started

    async def quotes_for(self, seconds: float) -> list[dict[str, Any]]:
        start = len(self.quotes)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                await self.next(left)
            except TimeoutError:
                break
        return self.quotes[start:]


@asynccontextmanager
async def watched_feed(
    start_server_dummy: StartServerDummy, start_restream: StartRestream
) -> AsyncIterator[tuple[ServerProcess, ServerProcess, Watch]]:
    """server_dummy at 5 quotes/s, restream on it, and one client watching SYMBOLS, streaming and
    quoted for a second: (dummy, server, watch), ready for a fault."""
    dummy = start_server_dummy("--rate", "5")
    server = start_restream(yahoo_config(dummy))
    async with connect(server.url("/ws", ws=True)) as ws:
        watch = Watch(ws)
        await subscribe(ws, *SYMBOLS)
        await watch.until_status("streaming", timeout=10)
        await watch.quotes_for(1.0)
        yield dummy, server, watch


async def test_quotes_carry_the_upstream_time(
    start_server_dummy: StartServerDummy, start_restream: StartRestream
) -> None:
    dummy = start_server_dummy("--rate", "4")
    server = start_restream(yahoo_config(dummy))
    # A direct Yahoo client sees the same broadcast the gateway decodes.
    async with connect(dummy.url("/?version=2", ws=True)) as direct, connect(server.url("/ws", ws=True)) as ws:
        await direct.send(json.dumps({"subscribe": ["AAPL"]}))
        await subscribe(ws, "AAPL")
        upstream: set[int] = set()
        for _ in range(8):
            upstream.add(int(decode_frame(await asyncio.wait_for(direct.recv(), 5))["time"]) * 1000)  # type: ignore[call-overload]
        quote = await recv_until(ws, "quote")
        for _ in range(3):
            quote = await recv_until(ws, "quote")
            if quote["ts_upstream"] in upstream:
                break
        assert quote["ts_upstream"] in upstream
        assert quote["ts_upstream"] <= quote["ts_library_in"] <= quote["ts_library_out"]
        assert quote["exchange"] == "NMS" and quote["currency"] == "USD"


async def test_stall_fails_over_to_polling_and_back_without_disorder(
    start_server_dummy: StartServerDummy, start_restream: StartRestream
) -> None:
    async with watched_feed(start_server_dummy, start_restream) as (dummy, server, watch):
        fault(dummy, "stall")
        took = await watch.until_status("polling", timeout=INACTIVITY_S + 5)
        assert took <= INACTIVITY_S + 1.0 + 0.5, f"failover took {took:.2f}s"
        polled = await watch.quotes_for(3.0)
        assert {q["symbol"] for q in polled} == set(SYMBOLS), "polling serves every symbol"
        fault(dummy, "none")
        await watch.until_status("streaming", timeout=10)
        streamed = await watch.quotes_for(1.5)
        assert len(streamed) >= 5
        upstream = server.status()["upstream"]
        assert isinstance(upstream, dict) and upstream["quotes"]["polling"] >= 2  # type: ignore[index]
    metrics = server.get("/metrics").text
    assert 'restream_upstream_transitions_total{state="polling"} 1' in metrics


@pytest.mark.parametrize("mode", ["close", "abort"])
async def test_clean_and_abrupt_close_both_reconnect(
    start_server_dummy: StartServerDummy, start_restream: StartRestream, mode: str
) -> None:
    async with watched_feed(start_server_dummy, start_restream) as (dummy, server, watch):
        fault(dummy, mode)
        after = await watch.quotes_for(3.0)
        assert {q["symbol"] for q in after} == set(SYMBOLS)
    stream = server.status()["upstream"]["stream"]  # type: ignore[index]
    assert stream["connects"] >= 2 and stream["drops"] >= 1  # type: ignore[index]


async def test_malformed_frames_do_not_disturb_the_others(
    start_server_dummy: StartServerDummy, start_restream: StartRestream
) -> None:
    async with watched_feed(start_server_dummy, start_restream) as (dummy, server, watch):
        fault(dummy, "malformed")
        during = await watch.quotes_for(2.0)
        assert len(during) >= 10
    upstream = server.status()["upstream"]
    assert isinstance(upstream, dict)
    assert sum(upstream["stream"]["malformed"].values()) >= 5  # type: ignore[index]
    assert upstream["stream"]["connects"] == 1  # type: ignore[index]
    assert upstream["state"] == "streaming"


async def test_fear_and_greed_is_subscribed_like_a_symbol(
    start_server_dummy: StartServerDummy, start_restream: StartRestream
) -> None:
    dummy = start_server_dummy("--rate", "2")
    server = start_restream(yahoo_config(dummy))
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "FEAR-GREED", "AAPL")
        seen: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(10):
            while len(seen) < 2:
                quote = await recv_until(ws, "quote")
                seen[quote["symbol"]] = quote
    index = seen["FEAR-GREED"]
    assert 0 <= index["price"] <= 100
    assert index["rating"] in ("extreme fear", "fear", "neutral", "greed", "extreme greed")
    assert "previous_close" in index and index["ts_upstream"] > 0
    fear_greed = server.status()["upstream"]["fear_greed"]  # type: ignore[index]
    assert fear_greed["subscribed"] and fear_greed["quotes"] == 1  # type: ignore[index]
