"""Raw connections to Redis: open one (URL, TLS, AUTH, SELECT), and `RespConnection`, one
connection for request/reply commands, on which every client of the bus is built.

The bus speaks RESP2 itself (`resp.py`, hiredis's parser) over an asyncio stream; there is no
other Redis client in the tree. This is the boundary where Redis errors become the bus's own
(`lib_common.errors`): a socket error, a timeout or a reply that is not RESP is BusUnavailable,
and the connection is closed, since a half-read reply must never be taken for the next one; an
error reply is BusReplyError with the reply's code (its first word: NOGROUP, BUSYGROUP, ...),
and the connection stays in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import parse_qs, unquote, urlsplit

from lib_common.errors import BusReplyError, BusUnavailable
from lib_common.redis_bus.resp import ProtocolViolation, Reply, ReplyError, ReplyReader, command
from lib_common.redis_bus.urls import is_cluster_url, parse_cluster_url

CONNECT_TIMEOUT_S = 2.0
# Bounds one round trip: a Redis that stopped answering is as gone as a closed one.
COMMAND_TIMEOUT_S = 5.0
_READ_SIZE = 1 << 18

Arg = bytes | str | int
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def redacted(url: str) -> str:
    """The URL without its password, for logs and /status."""
    if is_cluster_url(url):
        try:
            return parse_cluster_url(url).redacted()
        except ValueError:
            return url.partition("://")[0] + "://?"
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def unavailable(url: str, exc: BaseException) -> BusUnavailable:
    return BusUnavailable(f"redis at {redacted(url)}: {exc or type(exc).__name__}")


def refused(url: str, reply: ReplyError) -> BusReplyError:
    return BusReplyError(reply.code, reply.message, where=f"redis at {redacted(url)}")


async def open_connection(url: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Stream:
    """A raw connection to Redis, authenticated and on the URL's database. A refused AUTH or
    SELECT is BusReplyError; anything else that fails is BusUnavailable."""
    parts = urlsplit(url)
    try:
        async with asyncio.timeout(timeout_s):
            if parts.scheme == "unix":
                reader, writer = await asyncio.open_unix_connection(parts.path)
            elif parts.scheme in ("redis", "rediss"):
                tls = ssl.create_default_context() if parts.scheme == "rediss" else None
                host = parts.hostname or "127.0.0.1"
                reader, writer = await asyncio.open_connection(host, parts.port or 6379, ssl=tls)
            else:
                raise BusUnavailable(f"bad redis URL {redacted(url)!r}: expected redis://, rediss:// or unix://")
    except (OSError, TimeoutError) as exc:
        raise unavailable(url, exc) from exc
    hello: list[bytes] = []
    if parts.password is not None:
        user = [unquote(parts.username)] if parts.username else []
        hello.append(command(b"AUTH", *user, unquote(parts.password)))
    db = parse_qs(parts.query).get("db", [""])[0] if parts.scheme == "unix" else parts.path.strip("/")
    if db and db != "0":
        hello.append(command(b"SELECT", db))
    hello.append(command(b"PING"))
    try:
        await round_trip((reader, writer), ReplyReader(), b"".join(hello), len(hello), url, timeout_s)
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def round_trip(
    stream: Stream, replies: ReplyReader, request: bytes, expected: int, url: str, timeout_s: float
) -> list[Reply]:
    """Write pipelined commands, read their `expected` replies; the first error reply among them
    is raised as BusReplyError once all are read (so the connection stays in step)."""
    reader, writer = stream
    try:
        async with asyncio.timeout(timeout_s):
            writer.write(request)
            await writer.drain()
            got: list[Reply] = []
            while len(got) < expected:
                data = await reader.read(_READ_SIZE)
                if not data:
                    raise ConnectionResetError("connection closed by the server")
                replies.feed(data)
                got.extend(replies.take())
    except (OSError, TimeoutError, ProtocolViolation) as exc:
        raise unavailable(url, exc) from exc
    for reply in got:
        if isinstance(reply, ReplyError):
            raise refused(url, reply)
    return got


async def close_stream(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ConnectionError):
        await writer.wait_closed()


class RespConnection:
    """One connection for commands and their replies, opened on first use and again after a
    failure. Calls are serialised (RESP replies come in request order, and a blocking read must
    not have another command's reply taken for its own); a caller that needs a command to run
    beside a blocking one uses a second RespConnection."""

    def __init__(
        self, url: str, *, timeout_s: float = COMMAND_TIMEOUT_S, connect_timeout_s: float = CONNECT_TIMEOUT_S
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._stream: Stream | None = None
        self._replies = ReplyReader()
        self._lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    async def execute(self, *args: Arg, key: Arg | None = None, timeout_s: float | None = None) -> Reply:
        """One command's reply (BusReplyError for an error reply, BusUnavailable when the
        connection failed, which closes it). `key` routes a cluster's commands
        (`cluster.Commands`); one Redis has no use for it."""
        return (await self.pipeline([args], timeout_s=timeout_s))[0]

    async def pipeline(
        self, commands: list[tuple[Arg, ...]], *, key: Arg | None = None, timeout_s: float | None = None
    ) -> list[Reply]:
        """Several commands in one write, their replies in order."""
        async with self._lock:
            try:
                if self._stream is None:
                    self._stream = await open_connection(self.url, timeout_s=self.connect_timeout_s)
                    self._replies = ReplyReader()
                request = b"".join(command(*args) for args in commands)
                return await round_trip(
                    self._stream, self._replies, request, len(commands), self.url, timeout_s or self.timeout_s
                )
            except BusReplyError:
                raise
            except BaseException:
                # BusUnavailable, or a cancellation mid-reply: either way the stream is out of step.
                self._drop()
                raise

    def _drop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream[1].close()

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await close_stream(stream[1])
