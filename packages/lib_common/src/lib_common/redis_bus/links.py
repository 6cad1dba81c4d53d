"""The redis-py side of the bus: thin adapters behind `PublishLink` and `PubSubLink`.

redis-py's own retries are switched off (`Retry(NoBackoff(), 0)`): reconnecting, backing off and
resubscribing are the Publisher's and the Subscriber's policy, and a connection that failed is
thrown away whole. Every redis-py or socket error leaves here as `BusUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from lib_common.core.frame import Frame
from lib_common.errors import BusUnavailable
from lib_common.redis_bus.format import quote_channel, stream_key
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


def _client(url: str, *, command_timeout: float | None) -> aioredis.Redis:
    try:
        return aioredis.Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=command_timeout,
            health_check_interval=0,
        )
    except ValueError as exc:
        raise BusUnavailable(f"bad redis URL {redacted(url)!r}: {exc}") from exc


def _unavailable(url: str, exc: BaseException) -> BusUnavailable:
    return BusUnavailable(f"redis at {redacted(url)}: {exc or type(exc).__name__}")


class RedisPublishLink:
    """PUBLISH + XADD per frame, one pipelined round trip per batch (no MULTI: nothing to roll back)."""

    def __init__(self, client: aioredis.Redis, url: str, prefix: str, stream_maxlen: int) -> None:
        self._client = client
        self._url = url
        self._prefix = prefix
        self._stream = stream_key(prefix)
        self._maxlen = stream_maxlen

    @classmethod
    async def connect(cls, url: str, prefix: str, stream_maxlen: int) -> RedisPublishLink:
        client = _client(url, command_timeout=COMMAND_TIMEOUT_S)
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            raise _unavailable(url, exc) from exc
        return cls(client, url, prefix, stream_maxlen)

    async def send(self, frames: Sequence[Frame]) -> None:
        pipe = self._client.pipeline(transaction=False)
        prefix, stream, maxlen = self._prefix, self._stream, self._maxlen
        for frame in frames:
            symbol = frame.symbol or ""
            payload = frame.payload
            pipe.publish(quote_channel(prefix, symbol), payload)
            pipe.xadd(stream, {"symbol": symbol, "frame": payload}, maxlen=maxlen, approximate=True)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            raise _unavailable(self._url, exc) from exc

    async def close(self) -> None:
        try:
            await self._client.aclose()
        except (RedisError, OSError) as exc:
            raise _unavailable(self._url, exc) from exc


class RedisPubSubLink:
    """A dedicated pub/sub connection; reads block until a message comes or the socket drops."""

    def __init__(self, client: aioredis.Redis, pubsub: PubSub, url: str) -> None:
        self._client = client
        self._pubsub = pubsub
        self._url = url

    @classmethod
    async def connect(cls, url: str) -> RedisPubSubLink:
        client = _client(url, command_timeout=None)  # a quiet channel is not a dead connection
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
        except (RedisError, OSError) as exc:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()
            raise _unavailable(url, exc) from exc
        return cls(client, pubsub, url)

    async def subscribe(self, channels: list[str]) -> None:
        await self._guard(self._pubsub.subscribe(*channels))

    async def unsubscribe(self, channels: list[str]) -> None:
        await self._guard(self._pubsub.unsubscribe(*channels))

    async def psubscribe(self, patterns: list[str]) -> None:
        await self._guard(self._pubsub.psubscribe(*patterns))

    async def punsubscribe(self, patterns: list[str]) -> None:
        await self._guard(self._pubsub.punsubscribe(*patterns))

    async def _guard(self, command: Any) -> None:
        try:
            await command
        except (RedisError, OSError) as exc:
            raise _unavailable(self._url, exc) from exc

    async def next_message(self) -> BusMessage:
        pubsub = self._pubsub
        while True:
            try:
                message = await pubsub.get_message(timeout=None)
            except (RedisError, OSError) as exc:
                raise _unavailable(self._url, exc) from exc
            if message is None:
                continue
            kind = message["type"]
            if kind == "message":
                return BusMessage(message["channel"].decode(errors="replace"), message["data"])
            if kind == "pmessage":
                return BusMessage(
                    message["channel"].decode(errors="replace"),
                    message["data"],
                    message["pattern"].decode(errors="replace"),
                )

    async def close(self) -> None:
        try:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            await self._client.aclose()
        except (RedisError, OSError) as exc:
            raise _unavailable(self._url, exc) from exc
