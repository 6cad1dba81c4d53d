"""The cluster client: discovery (CLUSTER SHARDS, CLUSTER SLOTS before Redis 7) from any node
the URL names, and `ClusterConnection`, request/reply commands routed by their key's slot to a
connection per master (each a `RespConnection`), following MOVED and ASK.

Policy, all in one place:
- A topology is discovered on first use and again after anything that says it changed: a
  MOVED redirection, a node that cannot be reached (a failover is under way), TRYAGAIN or
  CLUSTERDOWN. A topology some slot of which no healthy master serves is not taken: discovery
  fails with BusUnavailable, and the caller's reconnect loop tries again after its backoff.
- MOVED and ASK are followed at most `REDIRECTS` times per call (ASK with ASKING first, once);
  TRYAGAIN / CLUSTERDOWN are retried with a short pause, as often. Past that the reply error
  is the caller's.
- A node's connection that failed is dropped (as any RespConnection's), the call raises
  BusUnavailable and the next call starts from a new discovery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Protocol

from lib_common.errors import BusError, BusReplyError, BusUnavailable
from lib_common.redis_bus.connection import COMMAND_TIMEOUT_S, CONNECT_TIMEOUT_S, Arg, RespConnection
from lib_common.redis_bus.resp import Reply
from lib_common.redis_bus.topology import Topology, from_shards, from_slots, key_slot
from lib_common.redis_bus.urls import Address, ClusterUrl, is_cluster_url, parse_cluster_url

REDIRECTS = 5
RETRY_PAUSE_S = 0.05
RETRIED = frozenset(("TRYAGAIN", "CLUSTERDOWN"))


class Commands(Protocol):
    """Request/reply commands on one Redis (`RespConnection`) or a cluster (`ClusterConnection`);
    `key` is the key the commands are about, which routes them on a cluster."""

    async def execute(self, *args: Arg, key: Arg | None = None, timeout_s: float | None = None) -> Reply: ...

    async def pipeline(
        self, commands: list[tuple[Arg, ...]], *, key: Arg | None = None, timeout_s: float | None = None
    ) -> list[Reply]: ...

    async def close(self) -> None: ...


def commands_for(
    url: str, *, timeout_s: float = COMMAND_TIMEOUT_S, connect_timeout_s: float = CONNECT_TIMEOUT_S
) -> Commands:
    """The request/reply client for a bus URL: one connection, or one per master of a cluster."""
    if is_cluster_url(url):
        return ClusterConnection(url, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)
    return RespConnection(url, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)


def redirection(exc: BusReplyError) -> tuple[str, int, Address] | None:
    """`MOVED 3999 10.0.0.2:6381` / `ASK ...` as (kind, slot, address); None for other errors."""
    if exc.code not in ("MOVED", "ASK"):
        return None
    parts = exc.message.split()
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    host, _, port = parts[2].rpartition(":")
    if not port.isdigit():
        return None
    return exc.code, int(parts[1]), (host.strip("[]") or "127.0.0.1", int(port))


async def describe(cluster: ClusterUrl, address: Address, timeout_s: float) -> Topology:
    """The cluster as the node at `address` sees it."""
    node = RespConnection(cluster.node_url(address), timeout_s=timeout_s, connect_timeout_s=timeout_s)
    try:
        try:
            return from_shards(await node.execute("CLUSTER", "SHARDS"))
        except BusReplyError as exc:
            if exc.code != "ERR":  # e.g. NOAUTH: the same everywhere, no use trying CLUSTER SLOTS
                raise
            return from_slots(await node.execute("CLUSTER", "SLOTS"))
        except ValueError as exc:
            raise BusUnavailable(f"redis cluster node {address[0]}:{address[1]}: {exc}") from exc
    finally:
        await node.close()


async def discover(
    cluster: ClusterUrl, known: Iterable[Address] = (), *, timeout_s: float = CONNECT_TIMEOUT_S
) -> Topology:
    """The topology from the first node (the masters last seen, then the URL's seeds) that
    describes one with every slot served."""
    candidates = list(dict.fromkeys([*known, *cluster.seeds]))
    problem = "no node given"
    for address in candidates:
        try:
            topology = await describe(cluster, address, timeout_s)
        except BusReplyError as exc:
            if exc.code in ("NOAUTH", "WRONGPASS", "NOPERM"):
                raise
            problem = str(exc)
            continue
        except BusError as exc:
            problem = str(exc)
            continue
        if topology.unserved:
            problem = f"{address[0]}:{address[1]} sees {topology.unserved} of 16384 slots unserved"
            continue
        return topology
    raise BusUnavailable(f"redis cluster {cluster.redacted()}: no usable topology ({problem})")


class ClusterConnection:
    """Commands on a cluster: each call goes to the master serving its key's slot, on that
    master's own RespConnection (serialised per master, as RespConnection's calls are)."""

    def __init__(
        self, url: str, *, timeout_s: float = COMMAND_TIMEOUT_S, connect_timeout_s: float = CONNECT_TIMEOUT_S
    ) -> None:
        self.url = url
        self.cluster = parse_cluster_url(url)
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._topology: Topology | None = None
        self._known: list[Address] = []
        self._nodes: dict[Address, RespConnection] = {}
        self._discovery = asyncio.Lock()
        self.discoveries = 0
        self.redirects = 0

    @property
    def is_open(self) -> bool:
        return any(node.is_open for node in self._nodes.values())

    async def topology(self) -> Topology:
        async with self._discovery:
            if self._topology is None:
                self._topology = await discover(self.cluster, self._known, timeout_s=self.connect_timeout_s)
                self._known = self._topology.masters
                self.discoveries += 1
                for address in set(self._nodes) - set(self._known):
                    await self._nodes.pop(address).close()
            return self._topology

    def stale(self) -> None:
        """Discover again before the next command (a failover, a reshard)."""
        self._topology = None

    def node(self, address: Address) -> RespConnection:
        node = self._nodes.get(address)
        if node is None:
            url = self.cluster.node_url(address)
            node = RespConnection(url, timeout_s=self.timeout_s, connect_timeout_s=self.connect_timeout_s)
            self._nodes[address] = node
        return node

    async def execute(self, *args: Arg, key: Arg | None = None, timeout_s: float | None = None) -> Reply:
        return (await self.pipeline([args], key=key, timeout_s=timeout_s))[0]

    async def pipeline(
        self, commands: list[tuple[Arg, ...]], *, key: Arg | None = None, timeout_s: float | None = None
    ) -> list[Reply]:
        """Commands all about `key` (one slot), in one write to its master; a call without a
        key (PING, INFO) goes to the first master."""
        slot = None if key is None else key_slot(key if isinstance(key, bytes | str) else str(key))
        ask: Address | None = None
        for attempt in range(REDIRECTS + 1):
            topology = await self.topology()
            address = ask or (topology.masters[0] if slot is None else topology.master_for(slot))
            if address is None:
                self.stale()
                raise BusUnavailable(f"redis cluster {self.cluster.redacted()}: slot {slot} has no master")
            node = self.node(address)
            try:
                if ask is None:
                    return await node.pipeline(commands, timeout_s=timeout_s)
                asked: list[tuple[Arg, ...]] = [c for args in commands for c in (("ASKING",), args)]
                return (await node.pipeline(asked, timeout_s=timeout_s))[1::2]
            except BusReplyError as exc:
                if attempt == REDIRECTS:
                    raise
                ask = await self._after_refusal(exc, attempt)
            except BusUnavailable:
                self.stale()  # the node is gone, or going: a failover
                raise
        raise AssertionError("unreachable")

    async def _after_refusal(self, exc: BusReplyError, attempt: int) -> Address | None:
        """What to do after an error reply: where to ASK, None to route afresh, or re-raise."""
        redirect = redirection(exc)
        if redirect is not None:
            self.redirects += 1
            kind, _slot, address = redirect
            if kind == "ASK":
                return address
            self.stale()
            return None
        if exc.code in RETRIED:
            self.stale()
            await asyncio.sleep(RETRY_PAUSE_S * (attempt + 1))
            return None
        raise exc

    async def each_master(self, commands: Sequence[tuple[Arg, ...]]) -> dict[Address, list[Reply]]:
        """The same commands on every master (INFO, health probes); a master that fails is
        BusUnavailable for the whole call, as any node's failure is."""
        topology = await self.topology()
        try:
            replies = await asyncio.gather(*(self.node(a).pipeline(list(commands)) for a in topology.masters))
        except BusUnavailable:
            self.stale()
            raise
        return dict(zip(topology.masters, replies, strict=True))

    async def close(self) -> None:
        nodes, self._nodes = list(self._nodes.values()), {}
        for node in nodes:
            await node.close()
