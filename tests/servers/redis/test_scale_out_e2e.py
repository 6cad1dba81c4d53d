"""One ingest restream publishing to Redis; edge restreams (`--feed redis`) and redis2ws serving
its frames to their own clients. Real processes, real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import redis
from websockets.asyncio.client import ClientConnection, connect

from tests.servers.conftest import Launcher, ServerProcess, StartRestream, until
from tests.servers.redis.conftest import SHARED_REDIS, PrivateRedis
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio


def ingest(start: StartRestream, url: str, prefix: str, **publish: object) -> ServerProcess:
    config = {"publish": {"prefix": prefix, **publish}, "registry": {"linger_s": 1}}
    return start(config, "--symbols", "AAPL,MSFT", "--rate", "20", "--publish", "--redis-url", url)


def edge(start: StartRestream, url: str, prefix: str) -> ServerProcess:
    config = {"feed": {"kind": "redis", "prefix": prefix}, "registry": {"linger_s": 1}}
    return start(config, "--redis-url", url)


async def quotes(ws: ClientConnection, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    return [await recv_until(ws, "quote", timeout) for _ in range(n)]


def section(server: ServerProcess, *path: str) -> dict[str, Any]:
    body: Any = server.status()
    for key in path:
        body = body[key]
    result: dict[str, Any] = body
    return result


async def test_ingest_frames_reach_redis2ws_and_edge_clients_with_ingest_stamps(
    start_restream: StartRestream, start_redis2ws: Launcher, prefix: str
) -> None:
    source = ingest(start_restream, SHARED_REDIS, prefix)
    edge_node = edge(start_restream, SHARED_REDIS, prefix)
    bridge = start_redis2ws(None, "--redis-url", SHARED_REDIS)
    async with connect(bridge.url("/ws", ws=True)) as raw, connect(edge_node.url("/ws", ws=True)) as ws:
        await raw.send(json.dumps({"op": "subscribe", "channels": [f"{prefix}quote:AAPL"]}))
        assert await recv_until(raw, "subscribed") == {"type": "subscribed", "channels": [f"{prefix}quote:AAPL"]}
        await subscribe(ws, "AAPL")
        from_edge = await quotes(ws, 10)
        from_bridge = [await recv_until(raw, "message") for _ in range(10)]
    # redis2ws relays the ingest's payload as it was published: data is the ingest's quote frame.
    ingest_frames = {m["data"]["ts_library_in"]: m["data"] for m in from_bridge}
    assert all(m["channel"] == f"{prefix}quote:AAPL" and m["data"]["symbol"] == "AAPL" for m in from_bridge)
    matched = [q for q in from_edge if q["ts_library_in"] in ingest_frames]
    assert matched, "the edge and redis2ws clients saw none of the same quotes"
    for quote in matched:
        original = ingest_frames[quote["ts_library_in"]]
        assert quote["ts_upstream"] == original["ts_upstream"] and quote["price"] == original["price"]
        assert quote["ts_library_out"] >= original["ts_library_out"]  # the edge stamps its own dispatch
        assert {k: v for k, v in quote.items() if k != "ts_library_out"} == {
            k: v for k, v in original.items() if k != "ts_library_out"
        }
    # The durable side: the same payload in the stream, field `frame`, with `symbol`.
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        entries = client.xrange(f"{prefix}quotes", count=50)
    finally:
        client.close()
    assert entries and all(set(fields) == {b"symbol", b"frame", b"quote_id"} for _, fields in entries)
    first = json.loads(entries[0][1][b"frame"])
    assert first["type"] == "quote" and first["symbol"] == entries[0][1][b"symbol"].decode()
    publish = section(source, "publish")
    assert publish["connected"] and publish["published"] > 0 and publish["dropped"] == 0
    assert section(edge_node, "upstream")["feed"] == "redis"


async def test_two_edges_serve_the_same_symbol_from_one_ingest(start_restream: StartRestream, prefix: str) -> None:
    ingest(start_restream, SHARED_REDIS, prefix)
    edges = [edge(start_restream, SHARED_REDIS, prefix) for _ in range(2)]
    async with connect(edges[0].url("/ws", ws=True)) as a, connect(edges[1].url("/ws", ws=True)) as b:
        await subscribe(a, "MSFT")
        await subscribe(b, "MSFT")
        seen_a = {q["ts_library_in"] for q in await quotes(a, 8)}
        seen_b = {q["ts_library_in"] for q in await quotes(b, 8)}
    assert seen_a & seen_b, "the two edges did not serve the same ingest quotes"
    for node in edges:
        upstream = section(node, "upstream")
        assert upstream["channels"] == 1 and upstream["malformed"] == {}


async def test_redis_killed_and_restarted_under_load(
    start_restream: StartRestream, private_redis: PrivateRedis
) -> None:
    prefix = "rsdev-restart:"
    source = ingest(start_restream, private_redis.url, prefix, buffer=20)
    edge_node = edge(start_restream, private_redis.url, prefix)
    async with connect(source.url("/ws", ws=True)) as own, connect(edge_node.url("/ws", ws=True)) as remote:
        await subscribe(own, "AAPL")
        await subscribe(remote, "AAPL")
        await quotes(remote, 3)
        await until(lambda: section(source, "publish")["published"] > 0)

        private_redis.kill()
        killed_at = time.time_ns() // 1000
        # The ingest keeps serving its own clients while Redis is away (20/s: 1.5 s is ~30 quotes).
        during = 0
        async with asyncio.timeout(10):
            while (await recv_until(own, "quote"))["ts_library_in"] < killed_at + 1_500_000:
                during += 1
        assert during >= 20
        await until(lambda: not section(source, "publish")["connected"])
        assert section(edge_node, "upstream")["state"] != "connected"

        private_redis.start()
        restarted_at = time.time_ns() // 1000
        await until(lambda: section(source, "publish")["reconnects"] >= 1)
        await until(lambda: section(edge_node, "upstream")["reconnects"] >= 1)
        # The edge resubscribed by itself: its client gets fresh quotes again, no action of its own.
        async with asyncio.timeout(15):
            while (await recv_until(remote, "quote", 15))["ts_library_in"] < restarted_at:
                pass
        # Its own client never stopped: quotes queued for it before the restart come first, then
        # fresh ones (waited for, not counted: how many queued up depends on the reconnect's pace).
        async with asyncio.timeout(15):
            while (await recv_until(own, "quote", 15))["ts_library_in"] <= restarted_at:
                pass
    publish = section(source, "publish")
    assert publish["dropped"] > 0 and publish["dropped_overflow"] > 0 and publish["errors"] >= 1
    metrics = source.get("/metrics").text
    assert (
        "restream_publish_reconnects_total" in metrics
        and 'restream_publish_dropped_total{reason="overflow"}' in metrics
    )
