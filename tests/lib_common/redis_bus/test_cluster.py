"""The bus on a real Redis Cluster (3 masters + 3 replicas started by the tests, tests/redis_cluster.py):
routing by slot, MOVED and ASK followed, sharded pub/sub and the stream shards, and a master's
SIGKILL survived by the Publisher and the Subscriber without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.redis_bus.cluster import ClusterConnection
from lib_common.redis_bus.format import decode_quote, stream_keys, stream_shard
from lib_common.redis_bus.links import connect_publish, connect_pubsub
from lib_common.redis_bus.publisher import Publisher
from lib_common.redis_bus.subscriber import BusMessage, Subscriber
from lib_common.redis_bus.topology import key_slot
from tests.redis_cluster import RedisCluster, back_after, cli, kill_while_flowing

pytestmark = pytest.mark.asyncio


def node_id(port: int) -> str:
    return cli(port, "CLUSTER", "MYID")


async def test_keys_reach_every_master_and_moved_is_followed(redis_cluster: RedisCluster) -> None:
    conn = ClusterConnection(redis_cluster.url)
    try:
        keys = [f"t-{uuid.uuid4().hex[:6]}-{i}" for i in range(30)]
        for key in keys:
            await conn.execute("SET", key, key, key=key)
        assert {redis_cluster.master_of(k) for k in keys} == set(redis_cluster.masters())
        for key in keys:  # each on its own master's connection: read back there alone
            assert cli(redis_cluster.master_of(key) or 0, "GET", key) == key
        topology = await conn.topology()
        wrong = next(m for m in topology.masters if m != topology.master_for(key_slot(keys[0])))
        topology.moved(key_slot(keys[0]), wrong)  # a stale view: MOVED, then a fresh discovery
        assert await conn.execute("GET", keys[0], key=keys[0]) == keys[0].encode()
        assert conn.redirects == 1 and conn.discoveries == 2
    finally:
        await conn.close()


async def test_ask_is_followed_while_a_slot_migrates(redis_cluster: RedisCluster) -> None:
    key = f"ask-{uuid.uuid4().hex[:8]}"
    slot = key_slot(key)
    source = redis_cluster.master_of(key)
    assert source is not None
    target = next(p for p in redis_cluster.masters() if p != source)
    assert cli(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", node_id(source)) == "OK"
    assert cli(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", node_id(target)) == "OK"
    conn = ClusterConnection(redis_cluster.url)
    try:
        # The key is not on the source: it answers ASK, and the write lands on the target.
        assert await conn.execute("SET", key, "moved", key=key) == b"OK"
        assert conn.redirects == 1
        assert cli(target, "CLUSTER", "COUNTKEYSINSLOT", str(slot)) == "1"
        assert cli(source, "CLUSTER", "COUNTKEYSINSLOT", str(slot)) == "0"
        assert await conn.execute("GET", key, key=key) == b"moved"  # ASK again: read where it is
        assert await conn.execute("DEL", key, key=key) == 1
        assert conn.redirects == 3 and conn.discoveries == 1  # ASK is one-off: the map is kept
    finally:
        await conn.close()
        for port in redis_cluster.masters():
            cli(port, "CLUSTER", "SETSLOT", str(slot), "NODE", node_id(source))


def frames(symbols: list[str], n: int) -> list[Frame]:
    now = time.time_ns() // 1000
    return [Frame.quote(Quote(symbol=s, ts_upstream=now + n, ts_library_in=now, price=float(n)), now) for s in symbols]


async def test_sharded_pub_sub_and_stream_shards(redis_cluster: RedisCluster) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    symbols = [f"S{i}" for i in range(12)]
    channels = [f"{prefix}quote:{s}" for s in symbols]
    assert len({redis_cluster.master_of(c) for c in channels}) == 3  # spread over every master
    url = redis_cluster.url + "?stream_shards=3"
    got: list[BusMessage] = []
    subscriber = Subscriber(lambda: connect_pubsub(url), got.extend)
    subscriber.subscribe(channels)
    publisher = Publisher(lambda: connect_publish(url, prefix, 1000))
    await subscriber.start()
    await publisher.start()
    try:
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:  # subscribed: the first round arrives
            publisher.offer(frames(symbols, 0))
            await asyncio.sleep(0.2)
        got.clear()
        publisher.offer(frames(symbols, 1))
        while len(got) < len(symbols) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert sorted(m.channel for m in got) == sorted(channels)
        assert all(decode_quote(m.data).price == 1.0 for m in got)
        conn = ClusterConnection(url)
        try:
            for shard, key in enumerate(stream_keys(prefix, 3)):
                entries = await conn.execute("XRANGE", key, "-", "+", key=key)
                assert isinstance(entries, list)
                held = {e[1][1].decode() for e in entries}  # type: ignore[index, union-attr]
                assert held == {s for s in symbols if stream_shard(s, 3) == shard}
                await conn.execute("DEL", key, key=key)
        finally:
            await conn.close()
    finally:
        await publisher.stop()
        await subscriber.stop()


class Flow:
    """A Publisher offering a round of quotes of `symbols` every 20 ms and a Subscriber to their
    channels, on `url`; `last` is when each channel was last heard from."""

    def __init__(self, url: str, prefix: str, symbols: list[str]) -> None:
        self.channels = [f"{prefix}quote:{s}" for s in symbols]
        self.symbols = symbols
        self.last: dict[str, float] = {}
        self.subscriber = Subscriber(lambda: connect_pubsub(url), self._seen)
        self.subscriber.subscribe(self.channels)
        self.publisher = Publisher(lambda: connect_publish(url, prefix, 10_000))

    def _seen(self, messages: list[BusMessage]) -> None:
        for message in messages:
            self.last[message.channel] = time.monotonic()

    async def _offer_forever(self) -> None:
        n = 0
        while True:
            n += 1
            self.publisher.offer(frames(self.symbols, n))
            await asyncio.sleep(0.02)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Flow]:
        await self.subscriber.start()
        await self.publisher.start()
        feeding = asyncio.create_task(self._offer_forever())
        try:
            yield self
        finally:
            feeding.cancel()
            await self.publisher.stop()
            await self.subscriber.stop()


async def test_a_masters_sigkill_is_survived_by_publisher_and_subscriber(own_redis_cluster: RedisCluster) -> None:
    cluster = own_redis_cluster
    async with Flow(cluster.url + "?stream_shards=3", "kill:", [f"K{i}" for i in range(9)]).running() as flow:
        killed = await kill_while_flowing(cluster, flow.last, len(flow.channels), flow.channels[0])
        # Every channel flows again (the victim's through its promoted replica) within 10 s.
        back = await back_after(flow.last, killed)
        assert all(t > 1 for t in back.values()) and max(back.values()) < 10, (back, flow.subscriber.figures())
        assert flow.subscriber.reconnects >= 1 and flow.publisher.reconnects >= 1
        published = flow.publisher.published
        await asyncio.sleep(0.5)
        assert flow.publisher.connected and flow.publisher.published > published  # publishing again


def move_slot(cluster: RedisCluster, slot: int, source: int, target: int) -> None:
    """Give `slot` (no keys in it) to `target`: the target first, then the source, then the rest."""
    owner = node_id(target)
    for port in [target, source, *(p for p in cluster.masters() if p not in (source, target))]:
        assert cli(port, "CLUSTER", "SETSLOT", str(slot), "NODE", owner) == "OK"


async def test_a_slot_moved_mid_stream_and_subscription_churn(redis_cluster: RedisCluster) -> None:
    flow = Flow(redis_cluster.url, f"mv{uuid.uuid4().hex[:6]}:", ["A", "B", "C"])
    channels, last, subscriber, publisher = flow.channels, flow.last, flow.subscriber, flow.publisher
    moved = channels[0]
    slot = key_slot(moved)
    source = redis_cluster.master_of(moved)
    assert source is not None
    target = next(p for p in redis_cluster.masters() if p != source)
    try:
        async with flow.running():
            deadline = time.monotonic() + 10
            while len(last) < len(channels) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            # Churn: a SUNSUBSCRIBE sent, the channel wanted again at once (its confirmation read
            # before or after the SSUBSCRIBE): our own sunsubscribe is never taken for a moved slot.
            for _ in range(5):
                subscriber.unsubscribe([channels[1]])
                for _ in range(3):
                    await asyncio.sleep(0)  # the reconciler sends it
                subscriber.subscribe([channels[1]])
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)
            assert subscriber.reconnects == 0
            moved_at = time.monotonic()
            move_slot(redis_cluster, slot, source, target)
            # The source tells its shard subscribers (sunsubscribe), the publisher gets MOVED: both
            # rediscover, and the channel flows from the target.
            while time.monotonic() < moved_at + 10 and not all(t > moved_at + 0.3 for t in last.values()):
                await asyncio.sleep(0.05)
            assert all(t > moved_at + 0.3 for t in last.values()), (last, moved_at)
            assert subscriber.reconnects >= 1 and publisher.reconnects >= 1
            assert redis_cluster.master_of(moved) == target
    finally:
        move_slot(redis_cluster, slot, target, source)
