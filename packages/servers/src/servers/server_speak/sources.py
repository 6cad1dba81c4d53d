"""Where quotes come from: restream's /ws (WebSocket client) or Redis pub/sub
(`{prefix}{SYMBOL}`, each message the quote JSON). Thin adapters: each only moves quote
objects to `on_quote`, and reconnects with backoff when its connection drops."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping

import redis.asyncio as aioredis
import websockets
from redis.exceptions import RedisError
from websockets.asyncio.client import connect

from lib_common.core.backoff import Backoff

log = logging.getLogger(__name__)

OnQuote = Callable[[Mapping[str, object]], None]


def parse_quote(text: str | bytes) -> dict[str, object] | None:
    """The quote object in a frame or message; None for anything else (control frames, junk)."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("symbol"), str):
        return None
    if body.get("type", "quote") != "quote":
        return None
    return body


class SourceState:
    def __init__(self, name: str) -> None:
        self.name = name
        self.connected = False
        self.connects = 0
        self.quotes = 0
        self.last_error: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "connected": self.connected,
            "connects": self.connects,
            "quotes": self.quotes,
            "last_error": self.last_error,
        }


async def restream_source(url: str, symbols: list[str], on_quote: OnQuote, state: SourceState) -> None:
    """Subscribe to `symbols` on restream's /ws and hand every quote to `on_quote`, forever."""
    backoff = Backoff(base_s=0.5, cap_s=15.0)
    while True:
        try:
            async with connect(url, proxy=None, open_timeout=10, max_size=2**20) as ws:
                state.connected = True
                state.connects += 1
                backoff.reset()
                await ws.send(json.dumps({"op": "subscribe", "symbols": symbols}))
                log.info("restream source connected to %s for %s", url, ",".join(symbols))
                async for message in ws:
                    quote = parse_quote(message)
                    if quote is not None:
                        state.quotes += 1
                        on_quote(quote)
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            state.last_error = f"{type(exc).__name__}: {exc}"
        state.connected = False
        delay = backoff.next_delay()
        log.warning("restream source %s down (%s); reconnecting in %.1fs", url, state.last_error, delay)
        await asyncio.sleep(delay)


async def redis_source(url: str, channels: list[str], on_quote: OnQuote, state: SourceState) -> None:
    """Subscribe to `channels` and hand every quote message to `on_quote`, forever."""
    backoff = Backoff(base_s=0.5, cap_s=15.0)
    while True:
        client = aioredis.Redis.from_url(url, socket_connect_timeout=5)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(*channels)
                state.connected = True
                state.connects += 1
                backoff.reset()
                log.info("redis source subscribed to %s", ",".join(channels))
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    quote = parse_quote(message["data"])
                    if quote is not None:
                        state.quotes += 1
                        on_quote(quote)
        except (OSError, RedisError) as exc:
            state.last_error = f"{type(exc).__name__}: {exc}"
        finally:
            await client.aclose()
        state.connected = False
        delay = backoff.next_delay()
        log.warning("redis source %s down (%s); reconnecting in %.1fs", url, state.last_error, delay)
        await asyncio.sleep(delay)
