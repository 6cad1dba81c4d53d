"""RedisFeed: an edge node's ingestor, quotes that an ingest node published to Redis.

The Registry drives it like any feed: the first client of a symbol subscribes its channel
(`{prefix}quote:{SYMBOL}`), the linger's end unsubscribes it. Each message is decoded back into
the Quote it was encoded from, keeping the ingest's ts_upstream and ts_library_in, so the edge's
dispatcher stamps only its own ts_library_out and its latency histogram measures ingest receipt
to edge dispatch. Messages not in the shared format are counted by reason and skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from lib_common.core.quote import Quote
from lib_common.core.upstream_manager import Transition
from lib_common.errors import BusMessageError
from lib_common.redis_bus.format import DEFAULT_PREFIX, decode_quote, quote_channel
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink, Subscriber


class RedisFeed:
    def __init__(
        self,
        sink: Callable[[list[Quote]], None],
        connect: Callable[[], Awaitable[PubSubLink]],
        *,
        prefix: str = DEFAULT_PREFIX,
        source: str = "",
        on_transition: Callable[[Transition], None] | None = None,
        now_us: Callable[[], int] | None = None,
    ) -> None:
        self._sink = sink
        self.prefix = prefix
        self.source = source  # where from, for /status (a redacted URL)
        self._channel_prefix = quote_channel(prefix, "")
        self.subscriber = Subscriber(
            connect,
            self._on_messages,
            name="redis feed",
            on_transition=on_transition,
            now_us=now_us,
        )
        self.quotes = 0
        self.malformed: Counter[str] = Counter()

    @classmethod
    def from_url(
        cls,
        sink: Callable[[list[Quote]], None],
        url: str,
        prefix: str = DEFAULT_PREFIX,
        *,
        on_transition: Callable[[Transition], None] | None = None,
        now_us: Callable[[], int] | None = None,
    ) -> RedisFeed:
        from lib_common.redis_bus.links import connect_pubsub, redacted

        return cls(
            sink,
            lambda: connect_pubsub(url),
            prefix=prefix,
            source=redacted(url),
            on_transition=on_transition,
            now_us=now_us,
        )

    # UpstreamControl, as the registry drives it

    def subscribe(self, symbols: list[str]) -> None:
        self.subscriber.subscribe(self._channel_prefix + s for s in symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        self.subscriber.unsubscribe(self._channel_prefix + s for s in symbols)

    def accepts(self, symbol: str) -> bool:
        return True  # whether an ingest node publishes it is not known here

    @property
    def subscribed(self) -> frozenset[str]:
        n = len(self._channel_prefix)
        return frozenset(channel[n:] for channel in self.subscriber.channels)

    # Lifecycle

    async def start(self) -> None:
        await self.subscriber.start()

    async def stop(self) -> None:
        await self.subscriber.stop()

    @property
    def state(self) -> str:
        return str(self.subscriber.state.value)

    def figures(self) -> dict[str, object]:
        return {
            **self.subscriber.figures(),
            "redis": self.source,
            "prefix": self.prefix,
            "quotes": self.quotes,
            "malformed": dict(self.malformed),
        }

    def _on_messages(self, messages: list[BusMessage]) -> None:
        quotes = []
        for message in messages:
            try:
                quote = decode_quote(message.data)
            except BusMessageError as exc:
                self.malformed[exc.reason] += 1
                continue
            if self._channel_prefix + quote.symbol != message.channel:
                self.malformed["wrong_channel"] += 1
                continue
            quotes.append(quote)
        if quotes:
            self.quotes += len(quotes)
            self._sink(quotes)
