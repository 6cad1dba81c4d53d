"""restream's clock window end to end (issue 13 #10): a Yahoo frame dated ten years ahead used to
become its symbol's last time, and every good quote after it was dropped as out of order.

A streamer of our own, speaking Yahoo's protocol, sends one such frame and then good ones; a real
client must get the good ones and /metrics must count the one dropped."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from servers.server_dummy.book import Snapshot
from servers.server_dummy.pricing import encode_pricing, envelope
from tests.servers.conftest import StartRestream
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio

TEN_YEARS_MS = 10 * 365 * 86_400 * 1000


def frame(time_ms: int, price: float) -> str:
    snapshot = Snapshot("AAPL", time_ms, price, 100.0, 1_000, price, price, "regular")
    return envelope(encode_pricing(snapshot))


async def test_a_frame_dated_years_ahead_is_dropped_and_the_good_ones_after_it_pass(
    start_restream: StartRestream,
) -> None:
    async def streamer(ws: ServerConnection) -> None:
        await ws.recv()  # the subscribe
        now_ms = int(time.time() * 1000)
        await ws.send(frame(now_ms + TEN_YEARS_MS, 999.0))
        for i in range(1, 200):
            await ws.send(frame(now_ms + i, 100.0 + i))
            await asyncio.sleep(0.02)
        await ws.wait_closed()

    async with serve(streamer, "127.0.0.1", 0) as upstream:
        port = upstream.sockets[0].getsockname()[1]
        feed = {"kind": "yahoo", "upstream_url": f"ws://127.0.0.1:{port}/", "hours": "always", "max_ahead_s": 60}
        server = start_restream({"feed": feed})
        async with connect(server.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            prices = [(await recv_until(ws, "quote", timeout=10))["price"] for _ in range(20)]
        assert 999.0 not in prices and prices == sorted(prices)
        metrics = httpx.get(server.url("/metrics"), timeout=5).text
        assert 'restream_quotes_outside_clock_window_total{side="ahead"} 1' in metrics
        assert 'restream_quotes_outside_clock_window_total{side="behind"} 0' in metrics
        status = httpx.get(server.url("/status"), timeout=5).json()
        assert status["upstream"]["dropped_ahead_of_clock"] == 1
