"""Where quotes come from: restream's /ws (a WebSocket client) or the bus's pub/sub channels.
Thin adapters: each decodes messages with the bus's one decoder and hands the Quotes to
`on_quote`; reconnecting is the shared loop and policy (`lib_common.core.reconnect_loop`).

- `RestreamSource`: subscribes to the rules' symbols on restream's /ws; control frames
  (`subscribed`, `pong`) and anything not a quote are skipped.
- `RedisSource`: the bus's `Subscriber` on a raw pub/sub link, one channel per symbol.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Protocol

import websockets
from websockets.asyncio.client import connect as ws_connect

from lib_common.core.backoff import Backoff
from lib_common.core.quote import Quote
from lib_common.core.reconnect import Reconnect
from lib_common.core.reconnect_loop import reconnect_loop
from lib_common.errors import BusMessageError
from lib_common.redis_bus.format import decode_quote
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink, Subscriber

log = logging.getLogger(__name__)

OnQuote = Callable[[Quote], None]

# What ends a link to restream: the network, a timeout, the WebSocket protocol.
WS_ERRORS = (OSError, TimeoutError, websockets.WebSocketException)


class Session(Protocol):
    """What a source needs of a WebSocket connection (websockets' ClientConnection has it)."""

    async def send(self, message: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


Connect = Callable[[str], contextlib.AbstractAsyncContextManager[Session]]


def _ws_connect(url: str) -> contextlib.AbstractAsyncContextManager[Session]:
    return ws_connect(url, proxy=None, open_timeout=10, max_size=2**20)


class Source:
    """A source's figures: its quotes, what it skipped by reason, its link's state."""

    def __init__(self, link: Reconnect, on_quote: OnQuote) -> None:
        self.link = link
        self._on_quote = on_quote
        self.quotes = 0
        self.skipped: Counter[str] = Counter()

    def take(self, data: str | bytes) -> None:
        try:
            quote = decode_quote(data)
        except BusMessageError as exc:
            self.skipped[exc.reason] += 1
            return
        self.quotes += 1
        self._on_quote(quote)

    def as_json(self) -> dict[str, object]:
        return {
            "connected": self.link.is_connected,
            "connects": self.link.connects,
            "quotes": self.quotes,
            "skipped": dict(self.skipped),
            "last_error": self.link.last_error,
        }


class RestreamSource(Source):
    def __init__(
        self,
        url: str,
        symbols: list[str],
        on_quote: OnQuote,
        *,
        connect: Connect = _ws_connect,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        link = Reconnect(f"restream source {url}", monotonic=monotonic, backoff=backoff or Backoff(0.5, 15.0))
        super().__init__(link, on_quote)
        self.url = url
        self.symbols = symbols
        self._connect = connect
        self._sleep = sleep

    async def run(self) -> None:
        """Subscribe to the symbols and hand every quote on, reconnecting, until cancelled."""
        await reconnect_loop(self.link, self._session, errors=WS_ERRORS, sleep=self._sleep)

    async def _session(self) -> str:
        async with self._connect(self.url) as ws:
            self.link.connected()
            await ws.send(json.dumps({"op": "subscribe", "symbols": self.symbols}))
            async for message in ws:
                self.take(message)
        return "connection closed"


class RedisSource(Source):
    def __init__(
        self,
        connect: Callable[[], Awaitable[PubSubLink]],
        channels: Iterable[str],
        on_quote: OnQuote,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.subscriber = Subscriber(
            connect,
            self._on_messages,
            name="redis source",
            backoff=Backoff(0.5, 15.0),
            sleep=sleep,
            monotonic=monotonic,
        )
        super().__init__(self.subscriber.link, on_quote)
        self.subscriber.subscribe(channels)

    @classmethod
    def from_url(
        cls, url: str, channels: Iterable[str], on_quote: OnQuote, *, monotonic: Callable[[], float] = time.monotonic
    ) -> RedisSource:
        from lib_common.redis_bus.links import connect_pubsub

        return cls(lambda: connect_pubsub(url), channels, on_quote, monotonic=monotonic)

    async def run(self) -> None:
        await self.subscriber.run()

    def _on_messages(self, messages: list[BusMessage]) -> None:
        for message in messages:
            self.take(message.data)
