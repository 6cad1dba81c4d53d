"""XREADGROUP on a connection of its own, its reply parsed by `resp.RespReader`.

The connection is redis-py's (URL, AUTH, TLS and the handshake are its business); only the
reply is read here, from the connection's stream. Any failure disconnects it, so a half-read
reply can never be taken for the next one.
"""

from __future__ import annotations

import asyncio
from typing import cast

import redis.asyncio as aioredis
import redis.exceptions

from servers.durable.entries import RawEntry
from servers.durable.errors import SourceUnavailable
from servers.durable.resp import INCOMPLETE, RespError, RespReader, RespValue

_READ_SIZE = 1 << 18


class StreamReader:
    def __init__(self, client: aioredis.Redis, timeout_s: float) -> None:
        # The client must speak RESP2 (protocol=2): the parser here reads RESP2 only.
        self._conn = aioredis.Connection(**client.connection_pool.connection_kwargs)
        self._timeout_s = timeout_s

    async def xreadgroup(
        self, group: str, consumer: str, stream: str, after: str, count: int, block_ms: int | None
    ) -> list[RawEntry]:
        args: list[str | int] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
        if block_ms is not None:
            args += ["BLOCK", block_ms]
        args += ["STREAMS", stream, after]
        try:
            async with asyncio.timeout(self._timeout_s):
                if not self._conn.is_connected:
                    await self._conn.connect()  # type: ignore[no-untyped-call]
                await self._conn.send_command(*args)
                reply = await self._read_reply()
        except (redis.exceptions.RedisError, OSError, TimeoutError) as exc:
            await self.close()
            raise SourceUnavailable(f"redis: {exc or type(exc).__name__}") from exc
        except BaseException:
            await self.close()
            raise
        if isinstance(reply, RespError):
            raise redis.exceptions.ResponseError(str(reply))
        return entries_of(reply)

    async def _read_reply(self) -> RespValue:
        stream = getattr(self._conn, "_reader", None)
        if not isinstance(stream, asyncio.StreamReader):  # a redis-py without it: its own parser
            return cast(RespValue, await self._conn.read_response(disable_decoding=True))
        reader = RespReader()
        while True:
            data = await stream.read(_READ_SIZE)
            if not data:
                raise ConnectionError("redis closed the connection")
            reader.feed(data)
            reply = reader.reply()
            if reply is not INCOMPLETE:
                return cast(RespValue, reply)

    async def close(self) -> None:
        await self._conn.disconnect()


def entries_of(reply: RespValue) -> list[RawEntry]:
    """[[stream, [[id, [field, value, ...]], ...]]] → [(id, [field, value, ...])]."""
    if not reply:
        return []
    streams = cast(list[list[RespValue]], reply)
    return [
        (cast(bytes, item[0]), cast(list[bytes] | None, item[1])) for item in cast(list[list[RespValue]], streams[0][1])
    ]
