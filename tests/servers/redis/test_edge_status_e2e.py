"""Edge continuity (issue 12 #3): when Redis goes away and comes back, redis2ws and an edge
restream (`--feed redis`) tell their clients with status frames, as restream does for Yahoo,
and serve again without anything asked of the client. Real processes, a private Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.servers.conftest import Launcher, StartRestream, until
from tests.servers.redis.conftest import PrivateRedis
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio

PREFIX = "rsdev-edge-status:"


async def status(ws: ClientConnection, upstream: str) -> dict[str, Any]:
    while True:
        frame = await recv_until(ws, "status", timeout=15)
        if frame["upstream"] == upstream:
            return frame


async def test_redis2ws_and_an_edge_tell_their_clients_when_redis_goes_and_comes_back(
    start_restream: StartRestream, start_redis2ws: Launcher, private_redis: PrivateRedis
) -> None:
    bridge = start_redis2ws({"redis_url": private_redis.url, "registry": {"linger_s": 5}})
    edge = start_restream({"feed": {"kind": "redis", "prefix": PREFIX}}, "--redis-url", private_redis.url)
    channel = f"{PREFIX}alert"
    async with connect(bridge.url("/ws", ws=True)) as raw, connect(edge.url("/ws", ws=True)) as ws:
        await raw.send(json.dumps({"op": "subscribe", "channels": [channel]}))
        await recv_until(raw, "subscribed")
        await subscribe(ws, "AAPL")
        await until(lambda: private_redis.client().pubsub_numsub(channel)[0][1] == 1)

        private_redis.kill()
        for client in (raw, ws):
            down = await status(client, "reconnecting")
            assert down["previous"] == "streaming" and down["reason"].startswith("redis: ")
            assert isinstance(down["ts"], int)

        private_redis.start()
        for client in (raw, ws):
            up = await status(client, "streaming")
            assert up["previous"] == "reconnecting" and "redis back after" in up["reason"]
        # Resubscribed by the bridge itself: a message published now reaches the same client.
        await until(lambda: private_redis.client().pubsub_numsub(channel)[0][1] == 1)
        private_redis.client().publish(channel, "after the outage")
        message = await recv_until(raw, "message", timeout=10)
        assert message["channel"] == channel and message["data"] == "after the outage"
    for server, name in ((bridge, "redis2ws"), (edge, "restream")):
        metrics = server.get("/metrics").text
        assert f'{name}_upstream_transitions_total{{state="reconnecting"}} 1' in metrics
        assert f'{name}_upstream_transitions_total{{state="streaming"}} 1' in metrics
