"""The quotes stream as the durable consumers read it: its entries, and `StreamGroup`, the
consumer-group commands on two raw connections.

An entry is what the publisher XADDs (`format.py`): fields `symbol`, `frame` (the quote's JSON
payload) and `quote_id` (the publisher's identity of the quote, which a resend keeps; absent
from older publishers' entries). Entries stay as hiredis built them until `parse_entries` makes one
`StreamEntry` tuple each, in one pass (server_sql reads 80k+ a second through here).

`StreamGroup` keeps the blocking XREADGROUP on a connection of its own, so that acks and the
lag figures, sent while a read waits for new entries, are not queued behind it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from lib_common.errors import BusReplyError, BusUnavailable
from lib_common.redis_bus.cluster import commands_for
from lib_common.redis_bus.resp import Reply, command

BUSYGROUP = "BUSYGROUP"  # XGROUP CREATE: the group exists already
NOGROUP = "NOGROUP"  # the stream or the group is gone (a Redis restarted without persistence)
_CLAIM_ROUNDS = 10_000  # bounded: each round moves XAUTOCLAIM's cursor on by up to one batch


class StreamEntry(NamedTuple):  # a tuple: built for every entry read, at C speed
    id: str
    symbol: str
    frame: bytes
    quote_id: str | None = None  # EPOCH:SEQ (format.quote_id); None from older publishers


RawEntry = list[Any]
"""[entry id (bytes), [field, value, field, value, ...]] as XREADGROUP returns it, taken as the
parser built it; the field list is None when the entry was trimmed or deleted while pending."""


def xadd(key: bytes, maxlen: bytes, quote_id: bytes, symbol: str, payload: bytes) -> bytes:
    """The publisher's XADD of one frame, encoded: `MAXLEN ~ maxlen`, fields symbol, frame and
    quote_id (the layout `parse_entries` reads without a dict)."""
    return command(
        b"XADD", key, b"MAXLEN", b"~", maxlen, b"*", b"symbol", symbol, b"frame", payload, b"quote_id", quote_id
    )


def id_key(entry_id: str) -> tuple[int, int]:
    """Stream ids order as (milliseconds, sequence), not as strings (a shard's `@S` aside)."""
    ms, _, seq = entry_id.partition("@")[0].partition("-")
    return int(ms), int(seq or 0)


def shard_of(entry_id: str) -> str:
    """The `S` of an id read from shard S of a sharded stream, `MS-SEQ@S` (`parse_entries`);
    "" for an unsharded stream's. Ids compare within one shard only."""
    return entry_id.partition("@")[2]


def receipt_us(entry_id: str) -> int:
    """When Redis took the entry in, µs since the epoch (from the id's milliseconds)."""
    return id_key(entry_id)[0] * 1000


def entries_of(reply: Reply) -> list[RawEntry]:
    """XREADGROUP's [[stream, [[id, [field, value, ...]], ...]]] → its [[id, [field, value, ...]], ...]."""
    if not reply:
        return []
    streams = cast(list[list[list[RawEntry]]], reply)
    return streams[0][1]


def parse_entries(raw: list[RawEntry], shard: int | None = None) -> tuple[list[StreamEntry], list[str]]:
    """Entries with a frame, and the ids of entries without one (trimmed or deleted while pending,
    or written by something else): those have nothing to persist and are acked as they are.

    Read from shard S of a sharded stream (`format.stream_keys`), an entry's id is `MS-SEQ@S`:
    two masters can give the same id to different entries, and sinks key rows by it."""
    suffix = "" if shard is None else f"@{shard}"
    entries: list[StreamEntry] = []
    empty: list[str] = []
    for raw_id, flat in raw:
        if (
            flat is not None
            and len(flat) == 6
            and flat[0] == b"symbol"
            and flat[2] == b"frame"
            and flat[4] == b"quote_id"
        ):
            symbol, frame, qid = flat[1], flat[3], flat[5]  # the publisher's layout: no dict needed
        else:
            fields = dict(zip(flat[::2], flat[1::2], strict=False)) if flat else {}
            symbol, frame, qid = fields.get(b"symbol", b""), fields.get(b"frame", b""), fields.get(b"quote_id")
        if frame:
            quote_id = qid.decode(errors="replace") if qid else None
            entries.append(StreamEntry(raw_id.decode() + suffix, symbol.decode(errors="replace"), frame, quote_id))
        else:
            empty.append(raw_id.decode())
    return entries, empty


class GroupFigures(NamedTuple):
    lag: int | None  # entries the group has not read (XINFO GROUPS; None when Redis cannot tell)
    pending: int  # delivered to the group, not acked
    length: int  # entries the stream holds


def _pairs(reply: Reply) -> dict[bytes, Reply]:
    """A RESP2 map reply (a flat [key, value, ...] array) as a dict."""
    flat = reply if isinstance(reply, list) else []
    return {k: v for k, v in zip(flat[::2], flat[1::2], strict=False) if isinstance(k, bytes)}


def _int(value: Reply, what: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, bytes) and value.isdigit():
        return int(value)
    raise BusUnavailable(f"redis: {what}: expected an integer, found {value!r}")


class StreamGroup:
    """`consumer` of consumer group `group` on `stream`. Every method raises BusUnavailable when
    Redis is gone (the connection is reopened on the next call) and BusReplyError when Redis
    refuses (code NOGROUP: the group must be created again)."""

    def __init__(
        self, url: str, stream: str, group: str, consumer: str, *, timeout_s: float, connect_timeout_s: float = 5.0
    ) -> None:
        self.stream = stream
        self.group = group
        self.consumer = consumer
        # On a cluster, each a connection to the master serving the stream's slot (MOVED followed).
        self._commands = commands_for(url, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)
        self._reads = commands_for(url, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)

    async def ping(self) -> None:
        await self._commands.execute("PING", key=self.stream)

    async def ensure_group(self) -> bool:
        """XGROUP CREATE ... MKSTREAM from the stream's start; False when the group existed."""
        try:
            await self._commands.execute("XGROUP", "CREATE", self.stream, self.group, "0", "MKSTREAM", key=self.stream)
        except BusReplyError as exc:
            if exc.code == BUSYGROUP:
                return False
            raise
        return True

    async def claim_idle(self, min_idle_ms: int, count: int) -> int:
        """XAUTOCLAIM every entry of the group pending longer than `min_idle_ms` into this
        consumer's PEL; how many were claimed."""
        claimed = 0
        start: Reply = b"0-0"
        for _ in range(_CLAIM_ROUNDS):
            reply = await self._commands.execute(
                "XAUTOCLAIM",
                self.stream,
                self.group,
                self.consumer,
                min_idle_ms,
                cast(bytes, start),
                "COUNT",
                count,
                key=self.stream,
            )
            if not isinstance(reply, list) or len(reply) < 2 or not isinstance(reply[1], list):
                raise BusUnavailable(f"redis: XAUTOCLAIM: unexpected reply {reply!r:.80}")
            claimed += len(reply[1])
            start = reply[0]
            if start == b"0-0":
                break
        return claimed

    async def read(self, after: str, count: int, block_ms: int | None) -> list[RawEntry]:
        """XREADGROUP from `after` ("0": this consumer's PEL; ">": new entries), blocking up to
        `block_ms` for new ones (None: not at all)."""
        args: list[str | int] = ["XREADGROUP", "GROUP", self.group, self.consumer, "COUNT", count]
        if block_ms is not None:
            args += ["BLOCK", block_ms]
        args += ["STREAMS", self.stream, after]
        return entries_of(await self._reads.execute(*args, key=self.stream))

    async def ack(self, ids: list[bytes]) -> None:
        await self._commands.execute("XACK", self.stream, self.group, *ids, key=self.stream)

    async def figures(self) -> GroupFigures | None:
        """The group's lag and pending count and the stream's length, in one round trip (None
        when the stream has no such group)."""
        groups, info = await self._commands.pipeline(
            [("XINFO", "GROUPS", self.stream), ("XINFO", "STREAM", self.stream)], key=self.stream
        )
        length = _int(_pairs(info).get(b"length"), "XINFO STREAM length")
        for raw in groups if isinstance(groups, list) else []:
            group = _pairs(raw)
            if group.get(b"name") == self.group.encode():
                lag = group.get(b"lag")
                return GroupFigures(
                    None if lag is None else _int(lag, "lag"), _int(group.get(b"pending"), "pending"), length
                )
        return None

    async def close(self) -> None:
        await self._reads.close()
        await self._commands.close()
