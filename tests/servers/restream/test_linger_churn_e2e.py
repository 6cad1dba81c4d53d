"""Linger churn (issue 13 #3): a client without a token subscribing fresh batches of symbols and
letting them go made the feed quote 11,100 symbols, all lingering. What a client left lingering
now counts toward its symbol limit, so the upstream quotes at most that many for it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.servers.conftest import StartRestream
from tests.servers.restream.test_protocol_e2e import recv_until

pytestmark = pytest.mark.asyncio

LIMIT = 200


async def test_a_churning_client_leaves_no_more_lingering_than_its_limit(start_restream: StartRestream) -> None:
    config = {
        "registry": {"linger_s": 60},
        "limits": {"max_symbols_per_client": LIMIT, "messages_per_second": 1000, "burst": 1000},
    }
    server = start_restream(config)
    async with connect(server.url("/ws", ws=True)) as ws:
        for r in range(20):  # 2,000 symbols through one connection, 100 at a time
            batch = [f"Z{r}X{i}" for i in range(100)]
            await ws.send(json.dumps({"op": "subscribe", "symbols": batch}))
            assert (await recv_until(ws, "subscribed"))["symbols"] == batch
            await ws.send(json.dumps({"op": "unsubscribe", "symbols": batch}))
            await recv_until(ws, "unsubscribed")
        symbols: Any = server.status()["symbols"]
        assert symbols["active"] == 0
        assert symbols["lingering"] == LIMIT  # was 2,000: every batch lingering for 60 s
        assert symbols["lingering_released_early"] == 2_000 - LIMIT
        # A healthy request still gets all it asks for: room is made, nothing refused.
        await ws.send(json.dumps({"op": "subscribe", "symbols": ["AAPL", "MSFT"]}))
        assert (await recv_until(ws, "subscribed"))["symbols"] == ["AAPL", "MSFT"]
        assert (await recv_until(ws, "quote"))["symbol"] in ("AAPL", "MSFT")
