"""XREADGROUP on a raw connection of its own, its reply parsed by lib_common's `RespReader`.

The bus's connection opener does the URL, AUTH and SELECT; the reply is parsed as it arrives,
not element by element as redis-py would. Any failure closes the connection, so a half-read
reply can never be taken for the next one.
"""

from __future__ import annotations

import asyncio
from typing import cast

import redis.exceptions

from lib_common.errors import BusUnavailable
from lib_common.redis_bus.connection import open_connection
from lib_common.redis_bus.resp import INCOMPLETE, ProtocolViolation, Reply, ReplyError, RespReader, command
from servers.durable.entries import RawEntry
from servers.durable.errors import SourceUnavailable

_READ_SIZE = 1 << 18


class StreamReader:
    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def xreadgroup(
        self, group: str, consumer: str, stream: str, after: str, count: int, block_ms: int | None
    ) -> list[RawEntry]:
        args: list[str | int] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
        if block_ms is not None:
            args += ["BLOCK", block_ms]
        args += ["STREAMS", stream, after]
        try:
            async with asyncio.timeout(self._timeout_s):
                if self._stream is None:
                    self._stream = await open_connection(self._url)
                reader, writer = self._stream
                writer.write(command(*args))
                await writer.drain()
                reply = await self._read_reply(reader)
        except (BusUnavailable, OSError, TimeoutError, ProtocolViolation) as exc:
            await self.close()
            raise SourceUnavailable(f"redis: {exc or type(exc).__name__}") from exc
        except BaseException:
            await self.close()
            raise
        if isinstance(reply, ReplyError):
            raise redis.exceptions.ResponseError(str(reply))
        return entries_of(reply)

    @staticmethod
    async def _read_reply(stream: asyncio.StreamReader) -> Reply:
        reader = RespReader()
        while True:
            data = await stream.read(_READ_SIZE)
            if not data:
                raise ConnectionError("redis closed the connection")
            reader.feed(data)
            reply = reader.reply()
            if reply is not INCOMPLETE:
                return cast(Reply, reply)

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream[1].close()


def entries_of(reply: Reply) -> list[RawEntry]:
    """[[stream, [[id, [field, value, ...]], ...]]] → its [[id, [field, value, ...]], ...]."""
    if not reply:
        return []
    streams = cast(list[list[list[RawEntry]]], reply)
    return streams[0][1]
