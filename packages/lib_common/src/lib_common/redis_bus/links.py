"""The hot path's connections: `RespPublishLink` behind the Publisher, `RespPubSubLink` behind
the Subscriber (the edge feed, redis2ws, server_speak's Redis source); `connect_publish` and
`connect_pubsub` pick them, or their cluster counterparts (`cluster_links.py`), by the URL.

Both are thin adapters on a raw connection (`connection.open_connection`, RESP parsed by
hiredis): one pipelined write of PUBLISH + XADD (symbol, frame, quote_id) per frame and their replies per batch; pub/sub
pushes turned into BusMessages as each read of the socket completes them. A general-purpose
client would spend hundreds of µs of Python per pipeline or per message, which on two cores is
the difference between an edge node that keeps up and one that does not. Reconnecting, backing
off and resubscribing are the Publisher's and the Subscriber's policy; a connection that failed
is thrown away whole. A socket or protocol error leaves here as BusUnavailable, an error reply
as BusReplyError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from lib_common.redis_bus.buffer import Outgoing
from lib_common.redis_bus.cluster_links import ClusterPublishLink, ClusterPubSubLink
from lib_common.redis_bus.connection import (
    COMMAND_TIMEOUT_S,
    close_stream,
    open_connection,
    redacted,
    round_trip,
    unavailable,
)
from lib_common.redis_bus.format import quote_channel, stream_key
from lib_common.redis_bus.publisher import PublishLink
from lib_common.redis_bus.resp import ProtocolViolation, Reply, ReplyReader, command
from lib_common.redis_bus.stream import xadd
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink
from lib_common.redis_bus.urls import is_cluster_url

__all__ = ["RespPubSubLink", "RespPublishLink", "connect_publish", "connect_pubsub", "redacted"]


async def connect_publish(url: str, prefix: str, stream_maxlen: int) -> PublishLink:
    """The publisher's link for a bus URL: one Redis, or every master of a cluster."""
    if is_cluster_url(url):
        return await ClusterPublishLink.connect(url, prefix, stream_maxlen)
    return await RespPublishLink.connect(url, prefix, stream_maxlen)


async def connect_pubsub(url: str) -> PubSubLink:
    """A subscriber's link for a bus URL: pub/sub on one Redis, sharded pub/sub on a cluster."""
    if is_cluster_url(url):
        return await ClusterPubSubLink.connect(url)
    return await RespPubSubLink.connect(url)


class RespPublishLink:
    """The publisher's connection: one write of 2N RESP commands a batch, then the 2N replies.
    (redis-py spent ~0.8 ms of Python on a four-command pipeline; on the dispatch core of an
    ingest node that is latency for every edge client and CPU taken from delivery.)"""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str, prefix: str, stream_maxlen: int
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._url = url
        self._prefix = prefix
        self._stream = stream_key(prefix).encode()
        self._maxlen = b"%d" % stream_maxlen
        self._replies = ReplyReader()

    @classmethod
    async def connect(cls, url: str, prefix: str, stream_maxlen: int) -> RespPublishLink:
        reader, writer = await open_connection(url)
        return cls(reader, writer, url, prefix, stream_maxlen)

    async def send(self, frames: Sequence[Outgoing]) -> None:
        prefix, stream, maxlen = self._prefix, self._stream, self._maxlen
        out = []
        for quote_id, symbol, payload in frames:
            out.append(command(b"PUBLISH", quote_channel(prefix, symbol), payload))
            out.append(xadd(stream, maxlen, quote_id, symbol, payload))
        connection = (self._reader, self._writer)
        await round_trip(connection, self._replies, b"".join(out), len(out), self._url, COMMAND_TIMEOUT_S)

    async def close(self) -> None:
        await close_stream(self._writer)


class RespPubSubLink:
    """A pub/sub connection: (un)subscribe requests are written as they come, and one reader turns
    the pushes into BusMessages, skipping confirmations. (redis-py's `get_message` cost hundreds
    of µs a message; an edge node reads every quote through here.)"""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
        self._reader = reader
        self._writer = writer
        self._url = url
        self._replies = ReplyReader()

    @classmethod
    async def connect(cls, url: str) -> RespPubSubLink:
        reader, writer = await open_connection(url)
        return cls(reader, writer, url)

    async def subscribe(self, channels: list[str]) -> None:
        await self._send(b"SUBSCRIBE", channels)

    async def unsubscribe(self, channels: list[str]) -> None:
        await self._send(b"UNSUBSCRIBE", channels)

    async def psubscribe(self, patterns: list[str]) -> None:
        await self._send(b"PSUBSCRIBE", patterns)

    async def punsubscribe(self, patterns: list[str]) -> None:
        await self._send(b"PUNSUBSCRIBE", patterns)

    async def _send(self, verb: bytes, names: list[str]) -> None:
        if not names:
            return
        try:
            self._writer.write(command(verb, *names))
            await self._writer.drain()
        except OSError as exc:
            raise unavailable(self._url, exc) from exc

    async def next_messages(self) -> list[BusMessage]:
        ready: list[BusMessage] = []
        while not ready:
            try:
                data = await self._reader.read(65536)
            except OSError as exc:
                raise unavailable(self._url, exc) from exc
            if not data:
                raise unavailable(self._url, ConnectionResetError("connection closed by the server"))
            try:
                self._replies.feed(data)
            except ProtocolViolation as exc:
                raise unavailable(self._url, exc) from exc
            for reply in self._replies.take():
                message = _push(reply)
                if message is not None:
                    ready.append(message)
        return ready

    async def close(self) -> None:
        await close_stream(self._writer)


def _push(reply: Reply) -> BusMessage | None:
    """A pub/sub push as a BusMessage; None for confirmations and anything else."""
    if not isinstance(reply, list) or not reply or not isinstance(reply[0], bytes):
        return None
    kind = reply[0]
    if kind == b"message" and len(reply) == 3 and isinstance(reply[1], bytes) and isinstance(reply[2], bytes):
        return BusMessage(reply[1].decode(errors="replace"), reply[2])
    if kind == b"pmessage" and len(reply) == 4 and all(isinstance(x, bytes) for x in reply[1:]):
        pattern, channel, data = reply[1], reply[2], reply[3]
        assert isinstance(pattern, bytes) and isinstance(channel, bytes) and isinstance(data, bytes)
        return BusMessage(channel.decode(errors="replace"), data, pattern.decode(errors="replace"))
    return None
