"""The scale-out path on a private Redis Cluster (3 masters + 3 replicas, tests/redis_cluster.py):
an ingest restream publishing with SPUBLISH, an edge restream (`--feed redis`) and redis2ws on
sharded pub/sub; redis2ws refuses patterns there; a master's SIGKILL is survived by all three,
every symbol reaching the edge's client again within 10 s, with no restart."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from lib_common.redis_bus.format import quote_channel
from tests.redis_cluster import RedisCluster, back_after, kill_while_flowing
from tests.servers.conftest import Launcher, StartRestream
from tests.servers.redis.test_scale_out_e2e import quotes
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio

SYMBOLS = [f"C{i}" for i in range(9)]


def start_ingest_and_edge(start: StartRestream, url: str, prefix: str) -> tuple[object, object]:
    registry = {"linger_s": 1}
    feed = {"kind": "synthetic", "symbols": SYMBOLS, "rate": 10}
    ingest = start({"feed": feed, "publish": {"prefix": prefix}, "registry": registry}, "--publish", "--redis-url", url)
    edge = start({"feed": {"kind": "redis", "prefix": prefix}, "registry": registry}, "--redis-url", url)
    return ingest, edge


async def test_ingest_to_edge_and_redis2ws_and_patterns_refused(
    start_restream: StartRestream, start_redis2ws: Launcher, redis_cluster: RedisCluster
) -> None:
    prefix = f"c{int(time.time() * 1000) % 10**8}:"
    _, edge = start_ingest_and_edge(start_restream, redis_cluster.url, prefix)
    bridge = start_redis2ws(None, "--redis-url", redis_cluster.url)
    channels = [quote_channel(prefix, s) for s in SYMBOLS]
    assert len({redis_cluster.master_of(c) for c in channels}) == 3
    async with connect(bridge.url("/ws", ws=True)) as raw, connect(edge.url("/ws", ws=True)) as ws:  # type: ignore[attr-defined]
        await raw.send(json.dumps({"op": "psubscribe", "patterns": [f"{prefix}quote:*"]}))
        refused = await recv_until(raw, "error")
        assert refused["code"] == "channel_refused" and "Redis Cluster" in refused["message"]
        await raw.send(json.dumps({"op": "subscribe", "channels": channels}))
        assert (await recv_until(raw, "subscribed"))["channels"] == channels
        await subscribe(ws, *SYMBOLS)
        from_edge = await quotes(ws, 40)
        from_bridge = [await recv_until(raw, "message") for _ in range(40)]
    assert {q["symbol"] for q in from_edge} == set(SYMBOLS)
    assert {m["channel"] for m in from_bridge} == set(channels)
    assert all(m["data"]["symbol"] == m["channel"].rsplit(":", 1)[1] for m in from_bridge)


async def test_a_masters_sigkill_every_symbol_back_at_the_edge_within_10_s(
    start_restream: StartRestream, own_redis_cluster: RedisCluster
) -> None:
    cluster = own_redis_cluster
    prefix = "kill:"
    ingest, edge = start_ingest_and_edge(start_restream, cluster.url, prefix)
    last: dict[str, float] = {}
    async with connect(edge.url("/ws", ws=True)) as ws:  # type: ignore[attr-defined]
        await subscribe(ws, *SYMBOLS)

        async def collect() -> None:
            while True:  # no timeout: the gap while the cluster fails over is what is measured
                body = json.loads(await ws.recv())
                if body.get("type") == "quote":
                    last[body["symbol"]] = time.monotonic()

        collector = asyncio.create_task(collect())
        try:
            killed = await kill_while_flowing(cluster, last, len(SYMBOLS), quote_channel(prefix, SYMBOLS[0]))
            back = await back_after(last, killed)
        finally:
            collector.cancel()
    assert all(t > 1 for t in back.values()), (back, cluster.masters(), ingest.status(), edge.status())  # type: ignore[attr-defined]
    assert max(back.values()) < 10, back
