"""The bus's connections: thin adapters behind `PublishLink` and `PubSubLink`, on raw RESP.

The hot paths (every published frame, every frame an edge node reads) speak RESP over an asyncio
stream themselves (`resp.py`): redis-py costs hundreds of µs of Python per pipeline or pub/sub
message, which on two cores is the difference between an edge node that keeps up and one that
does not. Reconnecting, backing off and resubscribing are the Publisher's and the Subscriber's
policy, and a connection that failed is thrown away whole. Every socket or protocol error leaves
here as `BusUnavailable`. (The durable consumers use redis-py: streams, not the hot path.)
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from lib_common.core.frame import Frame
from lib_common.errors import BusUnavailable
from lib_common.redis_bus.format import quote_channel, stream_key
from lib_common.redis_bus.resp import ProtocolViolation, Reply, ReplyError, ReplyReader, command
from lib_common.redis_bus.subscriber import BusMessage

CONNECT_TIMEOUT_S = 2.0
# Bounds one batch's round trip: a Redis that stopped answering is as gone as a closed one.
COMMAND_TIMEOUT_S = 5.0


def redacted(url: str) -> str:
    """The URL without its password, for logs and /status."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _unavailable(url: str, exc: BaseException) -> BusUnavailable:
    return BusUnavailable(f"redis at {redacted(url)}: {exc or type(exc).__name__}")


async def open_connection(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection to Redis, authenticated and on the URL's database."""
    parts = urlsplit(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            if parts.scheme == "unix":
                reader, writer = await asyncio.open_unix_connection(parts.path)
            elif parts.scheme in ("redis", "rediss"):
                tls = ssl.create_default_context() if parts.scheme == "rediss" else None
                host = parts.hostname or "127.0.0.1"
                reader, writer = await asyncio.open_connection(host, parts.port or 6379, ssl=tls)
            else:
                raise BusUnavailable(f"bad redis URL {redacted(url)!r}: expected redis://, rediss:// or unix://")
    except (OSError, TimeoutError) as exc:
        raise _unavailable(url, exc) from exc
    hello: list[bytes] = []
    if parts.password is not None:
        user = [unquote(parts.username)] if parts.username else []
        hello.append(command(b"AUTH", *user, unquote(parts.password)))
    db = parse_qs(parts.query).get("db", [""])[0] if parts.scheme == "unix" else parts.path.strip("/")
    if db and db != "0":
        hello.append(command(b"SELECT", db))
    hello.append(command(b"PING"))
    try:
        await _round_trip(reader, writer, ReplyReader(), b"".join(hello), len(hello), url)
    except BusUnavailable:
        writer.close()
        raise
    return reader, writer


async def _round_trip(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    replies: ReplyReader,
    request: bytes,
    expected: int,
    url: str,
) -> list[Reply]:
    """Write pipelined commands, read their replies; a refused command is BusUnavailable too
    (a wrong type at the stream key or bad credentials will not heal by resending)."""
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT_S):
            writer.write(request)
            await writer.drain()
            got: list[Reply] = []
            while len(got) < expected:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionResetError("connection closed by the server")
                replies.feed(data)
                got.extend(replies.take())
    except (OSError, TimeoutError, ProtocolViolation) as exc:
        raise _unavailable(url, exc) from exc
    errors = [reply.message for reply in got if isinstance(reply, ReplyError)]
    if errors:
        raise BusUnavailable(f"redis at {redacted(url)} refused: {errors[0]}")
    return got


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ConnectionError):
        await writer.wait_closed()


class RespPublishLink:
    """The publisher's connection without redis-py: one write of 2N RESP commands a batch, then the
    2N replies. redis-py spends ~0.8 ms of Python on a four-command pipeline; on the dispatch
    core of an ingest node that is latency for every edge client and CPU taken from delivery."""

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

    async def send(self, frames: Sequence[Frame]) -> None:
        prefix, stream, maxlen = self._prefix, self._stream, self._maxlen
        out = []
        for frame in frames:
            payload = frame.payload
            symbol = frame.symbol or ""
            out.append(command(b"PUBLISH", quote_channel(prefix, symbol), payload))
            out.append(command(b"XADD", stream, b"MAXLEN", b"~", maxlen, b"*", b"symbol", symbol, b"frame", payload))
        await _round_trip(self._reader, self._writer, self._replies, b"".join(out), len(out), self._url)

    async def close(self) -> None:
        await _close(self._writer)


class RespPubSubLink:
    """A pub/sub connection without redis-py: (un)subscribe requests are written as they come, and
    one reader turns the pushes into BusMessages, skipping confirmations. redis-py's
    `get_message` costs hundreds of µs a message; an edge node reads every quote through here."""

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
            raise _unavailable(self._url, exc) from exc

    async def next_messages(self) -> list[BusMessage]:
        ready: list[BusMessage] = []
        while not ready:
            try:
                data = await self._reader.read(65536)
            except OSError as exc:
                raise _unavailable(self._url, exc) from exc
            if not data:
                raise _unavailable(self._url, ConnectionResetError("connection closed by the server"))
            try:
                self._replies.feed(data)
            except ProtocolViolation as exc:
                raise _unavailable(self._url, exc) from exc
            for reply in self._replies.take():
                message = _push(reply)
                if message is not None:
                    ready.append(message)
        return ready

    async def close(self) -> None:
        await _close(self._writer)


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
