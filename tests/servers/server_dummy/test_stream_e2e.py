"""The streamer end to end: a real server_dummy process and a real WebSocket client."""

from __future__ import annotations

import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

from tests.servers.conftest import ServerProcess, StartServerDummy
from tests.servers.server_dummy.client import decode_frame, drain, recv_pricing, subscribe

pytestmark = pytest.mark.asyncio


async def test_subscribe_delivers_pricing_frames_stamped_now(dummy: ServerProcess) -> None:
    async with connect(dummy.url("/?version=2", ws=True)) as ws:
        await subscribe(ws, "AAPL", "BTC-USD")
        seen: set[object] = set()
        while seen != {"AAPL", "BTC-USD"}:
            fields = await recv_pricing(ws)
            assert abs(int(str(fields["time"])) - time.time() * 1000) < 1000
            assert isinstance(fields["price"], float) and fields["currency"] == "USD"
            seen.add(fields["id"])


async def test_plain_root_path_is_the_streamer_too(dummy: ServerProcess) -> None:
    async with connect(dummy.url("/", ws=True)) as ws:
        await subscribe(ws, "MSFT")
        assert (await recv_pricing(ws))["id"] == "MSFT"


async def test_unsubscribe_stops_frames(dummy: ServerProcess) -> None:
    async with connect(dummy.url("/", ws=True)) as ws:
        await subscribe(ws, "AAPL", "MSFT")
        await recv_pricing(ws)
        await ws.send(json.dumps({"unsubscribe": ["AAPL"]}))
        await drain(ws, 0.2)  # frames already on their way
        assert {decode_frame(f)["id"] for f in await drain(ws, 0.5)} == {"MSFT"}


async def test_rate_is_frames_per_second_per_symbol(start_server_dummy: StartServerDummy) -> None:
    dummy = start_server_dummy("--rate", "5")
    async with connect(dummy.url("/", ws=True)) as ws:
        await subscribe(ws, "AAPL", "MSFT")
        await recv_pricing(ws)
        ids = [decode_frame(f)["id"] for f in await drain(ws, 2.0)]
        assert 7 <= ids.count("AAPL") <= 13 and 7 <= ids.count("MSFT") <= 13


async def test_malformed_client_frame_closes_like_yahoo(dummy: ServerProcess) -> None:
    async with connect(dummy.url("/", ws=True)) as ws:
        await ws.send('{"subscribe": "AAPL"}')
        with pytest.raises(ConnectionClosedOK) as closed:
            await drain(ws, 5.0)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1005  # an empty close frame


async def test_only_the_first_100_symbols_are_served(dummy: ServerProcess) -> None:
    # An unbounded queue: a full one stops the client reading, and its closing handshake with it.
    async with connect(dummy.url("/", ws=True), max_queue=None) as ws:
        await subscribe(ws, *(f"S{i}" for i in range(150)))
        await recv_pricing(ws)
        subscriptions = dummy.status()["subscriptions"]
        assert isinstance(subscriptions, dict)
        assert len(subscriptions) == 100 and "S99" in subscriptions and "S100" not in subscriptions


async def test_status_counts_connections_and_subscribers(dummy: ServerProcess) -> None:
    async with connect(dummy.url("/", ws=True)) as a, connect(dummy.url("/", ws=True)) as b:
        await subscribe(a, "AAPL")
        await subscribe(b, "AAPL", "MSFT")
        await recv_pricing(a)
        await recv_pricing(b)
        status = dummy.status()
        assert status["connections"] == 2 and status["subscriptions"] == {"AAPL": 2, "MSFT": 1}
        frames = status["frames_sent"]
        assert isinstance(frames, dict) and frames["pricing"] >= 2
