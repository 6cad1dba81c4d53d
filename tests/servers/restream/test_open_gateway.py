"""Without tenants the gateway is open: no per-tenant connection cap below the machine's."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from tests.servers.conftest import StartRestream

pytestmark = pytest.mark.asyncio


async def test_more_than_a_hundred_anonymous_clients(start_restream: StartRestream) -> None:
    server = start_restream()
    url = server.url("/ws", ws=True)
    clients = [await connect(url) for _ in range(150)]
    try:
        for ws in clients:
            await ws.send(json.dumps({"op": "ping"}))
        replies = await asyncio.gather(*(asyncio.wait_for(ws.recv(), 10) for ws in clients))
        assert all(json.loads(r) == {"type": "pong"} for r in replies)
        assert server.status()["clients"]["connected"] == 150  # type: ignore[index]
    finally:
        await asyncio.gather(*(ws.close() for ws in clients))
