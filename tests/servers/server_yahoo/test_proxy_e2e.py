"""server_yahoo end to end: the real yfinance client against the proxy, on server_dummy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from yfinance import AsyncWebSocket  # type: ignore[import-untyped]

from tests.servers.conftest import Launcher, ServerProcess, StartServerDummy, until

pytestmark = pytest.mark.asyncio


StartProxy = Callable[..., tuple[ServerProcess, ServerProcess]]


@pytest.fixture
def start_proxy(tmp_path: Path, start_server_dummy: StartServerDummy) -> Iterator[StartProxy]:
    """`start_proxy(rate, **config)` → (server_dummy sending `rate` quotes/s, the server_yahoo
    proxy on it, linger_s 5 unless `config` says otherwise)."""
    with Launcher(tmp_path, "servers.server_yahoo") as launcher:

        def start(rate: int, **config: object) -> tuple[ServerProcess, ServerProcess]:
            dummy = start_server_dummy("--rate", str(rate))
            proxy = launcher({"upstream_url": dummy.url("/?version=2", ws=True), "linger_s": 5, **config})
            return dummy, proxy

        yield start


def upstream_connects(proxy: ServerProcess) -> int:
    upstream: dict[str, int] = proxy.status()["upstream"]  # type: ignore[assignment]
    return upstream["connects"]


def dummy_subscriptions(dummy: ServerProcess) -> dict[str, int]:
    body: dict[str, int] = dummy.status()["subscriptions"]  # type: ignore[assignment]
    return body


async def yfinance_client(url: str, symbols: list[str], inbox: list[dict[str, Any]]) -> tuple[Any, asyncio.Task[None]]:
    client = AsyncWebSocket(url=url, verbose=False)
    await client.subscribe(symbols)
    task = asyncio.create_task(client.listen(inbox.append))
    return client, task


async def test_two_yfinance_clients_share_one_upstream_subscription(start_proxy: StartProxy) -> None:
    dummy, proxy = start_proxy(5)
    url = proxy.url("/?version=2", ws=True)
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    a, task_a = await yfinance_client(url, ["AAPL"], first)
    b, task_b = await yfinance_client(url, ["AAPL", "MSFT"], second)
    try:
        await until(lambda: len(first) >= 3 and {m.get("id") for m in second} >= {"AAPL", "MSFT"})
        assert dummy.status()["connections"] == 1
        assert dummy_subscriptions(dummy) == {"AAPL": 1, "MSFT": 1}
        message = first[-1]
        assert message["id"] == "AAPL" and message["exchange"] == "NMS"
        assert int(message["time"]) > 0 and isinstance(message["price"], float)
    finally:
        for client, task in ((a, task_a), (b, task_b)):
            task.cancel()
            await client.close()
    status = proxy.status()
    assert status["upstream_subscriptions"] == {"subscribes": 2, "unsubscribes": 0}


async def test_frames_are_relayed_unchanged(start_proxy: StartProxy) -> None:
    dummy, proxy = start_proxy(5)
    async with connect(dummy.url("/?version=2", ws=True)) as direct, connect(proxy.url("/", ws=True)) as relayed:
        await direct.send(json.dumps({"subscribe": ["AAPL"]}))
        await relayed.send(json.dumps({"subscribe": ["AAPL"]}))
        seen_direct = {await asyncio.wait_for(direct.recv(), 5) for _ in range(10)}
        got = await asyncio.wait_for(relayed.recv(), 5)
        for _ in range(5):
            if got in seen_direct:
                break
            got = await asyncio.wait_for(relayed.recv(), 5)
        assert got in seen_direct


async def test_survives_upstream_drops_without_clients_noticing(start_proxy: StartProxy) -> None:
    dummy, proxy = start_proxy(10)
    async with connect(proxy.url("/", ws=True)) as client:
        await client.send(json.dumps({"subscribe": ["AAPL"]}))
        await asyncio.wait_for(client.recv(), 5)
        for n, mode in enumerate(("abort", "close"), start=2):
            httpx.post(dummy.url("/fault"), json={"mode": mode}, timeout=5).raise_for_status()
            await until(lambda: upstream_connects(proxy) >= n)  # noqa: B023 (awaited in the loop)
            for _ in range(5):  # the same client connection keeps receiving
                await asyncio.wait_for(client.recv(), 5)
    assert upstream_connects(proxy) >= 3


async def test_resubscribe_within_linger_costs_no_upstream_churn(start_proxy: StartProxy) -> None:
    dummy, proxy = start_proxy(5, linger_s=30)
    for _ in range(3):
        async with connect(proxy.url("/", ws=True)) as client:
            await client.send(json.dumps({"subscribe": ["AAPL"]}))
            await asyncio.wait_for(client.recv(), 5)
            await client.send(json.dumps({"unsubscribe": ["AAPL"]}))
    await until(lambda: proxy.status()["clients"] == {"connected": 0, "by_tenant": {"anonymous": 0}})
    assert proxy.status()["symbols"] == {"active": 0, "lingering": 1, "lingering_released_early": 0, "list": []}
    assert proxy.status()["upstream_subscriptions"] == {"subscribes": 1, "unsubscribes": 0}
    assert dummy_subscriptions(dummy) == {"AAPL": 1}


async def test_bad_requests_are_ignored_and_counted(start_proxy: StartProxy) -> None:
    _, proxy = start_proxy(5)
    async with connect(proxy.url("/", ws=True)) as client:
        for bad in ("nope", '{"subscribe": "AAPL"}', "[1]", '{"hello": 1}'):
            await client.send(bad)
        await client.send(json.dumps({"subscribe": ["AAPL"]}))
        await asyncio.wait_for(client.recv(), 5)
    assert sum(proxy.status()["bad_requests"].values()) == 4  # type: ignore[union-attr]
    assert "server_yahoo_bad_requests_total" in proxy.get("/metrics").text


async def test_binary_frames_are_counted_and_floods_closed_with_1008(start_proxy: StartProxy) -> None:
    """The same session loop as restream's: a token bucket per client (20/s, burst 40); Yahoo's
    protocol has no error frame, so a binary message is only counted."""
    _, proxy = start_proxy(5)
    async with connect(proxy.url("/", ws=True)) as client:
        await client.send(b"\x00binary")
        await until(lambda: proxy.status()["bad_requests"] == {"binary frame": 1})
        for _ in range(60):
            await client.send(json.dumps({"subscribe": ["AAPL"]}))
        with pytest.raises(ConnectionClosed) as info:
            async with asyncio.timeout(5):
                while True:
                    await client.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008
