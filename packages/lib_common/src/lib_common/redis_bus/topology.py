"""A Redis Cluster's layout, as plain code: which slot a key is in, which master serves a slot,
and the replies (CLUSTER SHARDS, or CLUSTER SLOTS before Redis 7) that say so.

Key slots are Redis's: CRC16 (XMODEM: `binascii.crc_hqx(key, 0)`, in C) of the key, or of its
hash tag (the part between the first `{` and the next `}`, when not empty), modulo 16384.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from lib_common.redis_bus.resp import Reply
from lib_common.redis_bus.urls import Address

SLOTS = 16384


def key_slot(key: bytes | str) -> int:
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return binascii.crc_hqx(data, 0) % SLOTS


@dataclass(frozen=True, slots=True)
class Shard:
    """One master's slot ranges (inclusive) and its replicas, with their health as the node
    that answered sees it ("online", "failed", "loading"; "online" when CLUSTER SLOTS told)."""

    ranges: tuple[tuple[int, int], ...]
    master: Address
    replicas: tuple[Address, ...] = ()
    master_health: str = "online"
    replica_health: tuple[str, ...] = ()

    @property
    def slot_count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)


class Topology:
    """Slot → master, from the shards one node described."""

    def __init__(self, shards: list[Shard]) -> None:
        self.shards = tuple(s for s in shards if s.ranges)
        self._owner: list[Address | None] = [None] * SLOTS
        for shard in self.shards:
            for lo, hi in shard.ranges:
                for slot in range(max(lo, 0), min(hi, SLOTS - 1) + 1):
                    self._owner[slot] = shard.master

    def master_for(self, slot: int) -> Address | None:
        return self._owner[slot]

    def moved(self, slot: int, address: Address) -> None:
        """A MOVED reply's news, kept until the next discovery."""
        self._owner[slot] = address

    @property
    def unserved(self) -> int:
        """Slots no master serves (or whose master the answering node sees as failed)."""
        failed = {s.master for s in self.shards if s.master_health == "failed"}
        return sum(1 for owner in self._owner if owner is None or owner in failed)

    @property
    def masters(self) -> list[Address]:
        return [s.master for s in self.shards]


def _text(value: Reply) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _pairs(reply: Reply) -> dict[str, Reply]:
    flat = reply if isinstance(reply, list) else []
    return {_text(k): v for k, v in zip(flat[::2], flat[1::2], strict=False)}


def _node_address(node: dict[str, Reply]) -> Address:
    host = _text(node.get("endpoint") or node.get("ip") or b"")
    if host in ("", "?"):
        host = _text(node.get("ip") or b"127.0.0.1")
    port = node.get("port") or node.get("tls-port")
    if not isinstance(port, int):
        raise ValueError(f"CLUSTER SHARDS: a node without a port: {node!r:.120}")
    return host, port


def from_shards(reply: Reply) -> Topology:
    """CLUSTER SHARDS (Redis 7): [[slots, [lo, hi, ...], nodes, [[id, ..., role, ...], ...]], ...]."""
    if not isinstance(reply, list):
        raise ValueError(f"CLUSTER SHARDS: expected an array, found {reply!r:.80}")
    shards = []
    for raw in reply:
        shard = _pairs(raw)
        bounds = shard.get("slots")
        flat = [int(x) for x in bounds] if isinstance(bounds, list) else []  # type: ignore[arg-type]
        ranges = tuple(zip(flat[::2], flat[1::2], strict=False))
        master: tuple[Address, str] | None = None
        replicas: list[tuple[Address, str]] = []
        nodes = shard.get("nodes")
        for raw_node in nodes if isinstance(nodes, list) else []:
            node = _pairs(raw_node)
            entry = (_node_address(node), _text(node.get("health") or b"online"))
            if _text(node.get("role")) == "master":
                master = entry
            else:
                replicas.append(entry)
        if master is not None:
            shards.append(
                Shard(
                    ranges,
                    master[0],
                    tuple(a for a, _ in replicas),
                    master[1],
                    tuple(h for _, h in replicas),
                )
            )
    return Topology(shards)


def from_slots(reply: Reply) -> Topology:
    """CLUSTER SLOTS: [[lo, hi, [host, port, id, ...], [replica...], ...], ...]."""
    if not isinstance(reply, list):
        raise ValueError(f"CLUSTER SLOTS: expected an array, found {reply!r:.80}")
    by_master: dict[Address, tuple[list[tuple[int, int]], list[Address]]] = {}
    for item in reply:
        if not isinstance(item, list) or len(item) < 3:
            continue
        lo, hi, *nodes = item
        addresses = [(_text(n[0]) or "127.0.0.1", n[1]) for n in nodes if isinstance(n, list) and isinstance(n[1], int)]
        if not addresses or not isinstance(lo, int) or not isinstance(hi, int):
            continue
        ranges, replicas = by_master.setdefault(addresses[0], ([], []))
        ranges.append((lo, hi))
        replicas.extend(a for a in addresses[1:] if a not in replicas)
    return Topology([Shard(tuple(r), m, tuple(rep)) for m, (r, rep) in by_master.items()])
