"""The hot path on a Redis Cluster: `ClusterPublishLink` (SPUBLISH + XADD to each frame's
masters) and `ClusterPubSubLink` (sharded pub/sub, SSUBSCRIBE on the master serving each
channel's slot), the Publisher's and the Subscriber's links as `links.py`'s are on one Redis.

Both are bound to the topology discovered when they connect, with a raw connection per master.
Anything that says the topology changed ends the link: a node's connection lost (a master
killed), an error reply (MOVED after a reshard or a failover, CLUSTERDOWN), or, for pub/sub, a
`sunsubscribe` this link did not ask for (Redis tells shard subscribers so when their channel's
slot leaves the node). The Publisher and the Subscriber then do what they do after any lost
connection: back off briefly, connect again (a new discovery), and resend the unconfirmed batch
or resubscribe everything. Pattern subscriptions do not exist in sharded pub/sub (SPUBLISH
reaches no PSUBSCRIBE): `psubscribe` refuses, and redis2ws refuses patterns on a cluster before
they get here (docs/redis.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from lib_common.errors import BusReplyError, BusUnavailable
from lib_common.redis_bus.buffer import Outgoing
from lib_common.redis_bus.cluster import discover
from lib_common.redis_bus.connection import COMMAND_TIMEOUT_S, Stream, close_stream, open_connection, round_trip
from lib_common.redis_bus.format import quote_channel, stream_keys, stream_shard
from lib_common.redis_bus.resp import ProtocolViolation, Reply, ReplyError, ReplyReader, command
from lib_common.redis_bus.stream import xadd
from lib_common.redis_bus.subscriber import BusMessage
from lib_common.redis_bus.topology import Topology, key_slot
from lib_common.redis_bus.urls import Address, ClusterUrl, parse_cluster_url

PATTERNS_REFUSED = "pattern subscriptions do not exist in a Redis Cluster's sharded pub/sub"


async def _open_masters(cluster: ClusterUrl, topology: Topology) -> dict[Address, Stream]:
    streams: dict[Address, Stream] = {}
    try:
        for address in topology.masters:
            streams[address] = await open_connection(cluster.node_url(address))
    except BaseException:
        for _, writer in streams.values():
            writer.close()
        raise
    return streams


def _where(address: Address) -> str:
    return f"redis cluster node {address[0]}:{address[1]}"


class ClusterPublishLink:
    """One pipelined round trip per master a batch touches, all under way at once: each frame's
    SPUBLISH to its channel's master and XADD to its symbol's stream shard's master; with
    `wait_replicas`, a WAIT after each master's XADDs."""

    def __init__(
        self, cluster: ClusterUrl, topology: Topology, streams: dict[Address, Stream], prefix: str, stream_maxlen: int
    ) -> None:
        self._cluster = cluster
        self._topology = topology
        self._streams = streams
        self._replies = {address: ReplyReader() for address in streams}
        self._prefix = prefix
        self._maxlen = b"%d" % stream_maxlen
        keys = stream_keys(prefix, cluster.stream_shards)
        self._keys = [(key.encode(), self._master(key_slot(key))) for key in keys]
        self._routes: dict[str, tuple[bytes, Address, bytes, Address]] = {}
        self._wait = command(b"WAIT", cluster.wait_replicas, cluster.wait_timeout_ms) if cluster.wait_replicas else b""
        self._timeout_s = max(COMMAND_TIMEOUT_S, cluster.wait_timeout_ms / 1000 + 1)

    @classmethod
    async def connect(cls, url: str, prefix: str, stream_maxlen: int) -> ClusterPublishLink:
        cluster = parse_cluster_url(url)
        topology = await discover(cluster)
        return cls(cluster, topology, await _open_masters(cluster, topology), prefix, stream_maxlen)

    def _master(self, slot: int) -> Address:
        address = self._topology.master_for(slot)
        if address is None or address not in self._streams:
            raise BusUnavailable(f"redis cluster {self._cluster.redacted()}: slot {slot} has no master")
        return address

    def _route(self, symbol: str) -> tuple[bytes, Address, bytes, Address]:
        route = self._routes.get(symbol)
        if route is None:
            channel = quote_channel(self._prefix, symbol).encode()
            key, key_master = self._keys[stream_shard(symbol, len(self._keys))]
            route = self._routes[symbol] = (channel, self._master(key_slot(channel)), key, key_master)
        return route

    async def send(self, frames: Sequence[Outgoing]) -> None:
        out: dict[Address, list[bytes]] = defaultdict(list)
        writes: set[Address] = set()
        maxlen = self._maxlen
        for quote_id, symbol, payload in frames:
            channel, channel_master, key, key_master = self._route(symbol)
            out[channel_master].append(command(b"SPUBLISH", channel, payload))
            out[key_master].append(xadd(key, maxlen, quote_id, symbol, payload))
            writes.add(key_master)
        if self._wait:
            for address in writes:
                out[address].append(self._wait)
        results = await asyncio.gather(
            *(self._round_trip(address, requests, address in writes) for address, requests in out.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _round_trip(self, address: Address, requests: list[bytes], waited: bool) -> None:
        where = _where(address)
        node = self._cluster.node_url(address)  # errors say `redis at redis://HOST:PORT/0: ...`
        replies = await round_trip(
            self._streams[address], self._replies[address], b"".join(requests), len(requests), node, self._timeout_s
        )
        if self._wait and waited:
            acked = replies[-1]
            if not isinstance(acked, int) or acked < self._cluster.wait_replicas:
                raise BusUnavailable(
                    f"{where}: WAIT: {acked!r} of {self._cluster.wait_replicas} replicas took the batch in "
                    f"{self._cluster.wait_timeout_ms} ms"
                )

    async def close(self) -> None:
        for _, writer in self._streams.values():
            await close_stream(writer)


class ClusterPubSubLink:
    """Sharded pub/sub: one connection per master, SSUBSCRIBE / SUNSUBSCRIBE per slot (Redis
    takes several channels in one only when they share a slot), and a reader per connection
    feeding one inbox, which `next_messages` empties."""

    def __init__(self, cluster: ClusterUrl, topology: Topology, streams: dict[Address, Stream]) -> None:
        self._cluster = cluster
        self._topology = topology
        self._streams = streams
        self._where: dict[str, Address] = {}
        self._leaving: set[str] = set()  # SUNSUBSCRIBEd here, confirmation not yet read
        self._inbox: asyncio.Queue[list[BusMessage] | BusUnavailable] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._readers = [loop.create_task(self._read(address, stream)) for address, stream in streams.items()]

    @classmethod
    async def connect(cls, url: str) -> ClusterPubSubLink:
        cluster = parse_cluster_url(url)
        topology = await discover(cluster)
        return cls(cluster, topology, await _open_masters(cluster, topology))

    def _by_slot(self, channels: Iterable[str]) -> dict[int, list[str]]:
        slots: dict[int, list[str]] = defaultdict(list)
        for channel in channels:
            slots[key_slot(channel)].append(channel)
        return slots

    async def _write(self, address: Address, request: bytes) -> None:
        try:
            writer = self._streams[address][1]
            writer.write(request)
            await writer.drain()
        except OSError as exc:
            raise BusUnavailable(f"{_where(address)}: {exc}") from exc

    async def subscribe(self, channels: list[str]) -> None:
        for slot, names in self._by_slot(channels).items():
            address = self._topology.master_for(slot)
            if address is None or address not in self._streams:
                raise BusUnavailable(f"redis cluster {self._cluster.redacted()}: slot {slot} has no master")
            await self._write(address, command(b"SSUBSCRIBE", *names))
            for name in names:
                self._where[name] = address  # (a SUNSUBSCRIBE still unconfirmed stays in _leaving)

    async def unsubscribe(self, channels: list[str]) -> None:
        for names in self._by_slot(channels).values():
            by_node: dict[Address, list[str]] = defaultdict(list)
            for name in names:
                address = self._where.pop(name, None)
                if address is not None:
                    by_node[address].append(name)
            for address, mine in by_node.items():
                self._leaving.update(mine)
                await self._write(address, command(b"SUNSUBSCRIBE", *mine))

    async def psubscribe(self, patterns: list[str]) -> None:
        if patterns:
            raise BusReplyError("ERR", PATTERNS_REFUSED, where=f"redis cluster {self._cluster.redacted()}")

    async def punsubscribe(self, patterns: list[str]) -> None:
        return None

    async def _read(self, address: Address, stream: Stream) -> None:
        reader, replies = stream[0], ReplyReader()
        where = _where(address)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionResetError("connection closed by the server")
                replies.feed(data)
                messages = [m for reply in replies.take() if (m := self._push(reply, where)) is not None]
                if messages:
                    self._inbox.put_nowait(messages)
        except (OSError, ProtocolViolation, BusUnavailable) as exc:
            self._inbox.put_nowait(exc if isinstance(exc, BusUnavailable) else BusUnavailable(f"{where}: {exc}"))

    def _push(self, reply: Reply, where: str) -> BusMessage | None:
        """A sharded push as a BusMessage; None for confirmations. A refusal, or a channel
        unsubscribed by the server (its slot moved), ends the link: BusUnavailable."""
        if isinstance(reply, ReplyError):
            raise BusUnavailable(f"{where}: {reply.message}")
        if not isinstance(reply, list) or len(reply) != 3 or not all(isinstance(x, bytes) for x in reply[:2]):
            return None
        kind, channel, data = reply
        assert isinstance(kind, bytes) and isinstance(channel, bytes)
        if kind == b"smessage" and isinstance(data, bytes):
            return BusMessage(channel.decode(errors="replace"), data)
        if kind == b"sunsubscribe":
            name = channel.decode(errors="replace")
            if name in self._leaving:
                self._leaving.discard(name)
            elif name in self._where:
                raise BusUnavailable(f"{where}: {name}: its slot moved to another node")
        return None

    async def next_messages(self) -> list[BusMessage]:
        item = await self._inbox.get()
        if isinstance(item, BusUnavailable):
            raise item
        ready = list(item)
        while not self._inbox.empty():
            more = self._inbox.get_nowait()
            if isinstance(more, BusUnavailable):
                self._inbox.put_nowait(more)  # for the next call: what came before it first
                break
            ready.extend(more)
        return ready

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _, writer in self._streams.values():
            await close_stream(writer)
