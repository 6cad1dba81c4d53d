"""A synthetic feed: random-walk prices per symbol, so the gateway runs offline.

Each symbol gets a deterministic starting price from its name and a geometric random walk
(about 2% daily volatility scaled to the tick), a previous close, a growing day volume, and
the session label from the New York clock. Crypto pairs (`XXX-USD`) trade around the clock.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lib_common.clock import Clock, sleep
from lib_common.core.market_hours import session_at
from lib_common.core.quote import Quote
from lib_common.core.tasks import BackgroundTask

_TRADING_SECONDS_PER_DAY = 6.5 * 3600


@dataclass(slots=True)
class _Walk:
    price: float
    previous_close: float
    day_volume: int


class SyntheticFeed(BackgroundTask):
    """Emits one quote per active symbol every 1/rate seconds into `sink`.

    Without a fixed symbol list it quotes whatever symbols are subscribed (the Registry calls
    `subscribe` / `unsubscribe`); with one, only those, and `accepts` tells which. `start` and
    `stop`, as the gateway drives every feed, run `run` as the feed's task.
    """

    def __init__(
        self,
        sink: Callable[[list[Quote]], None],
        *,
        clock: Clock,
        rate: float = 2.0,
        symbols: Iterable[str] | None = None,
        seed: int = 0,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        super().__init__(self.run, name="synthetic-feed")
        self._sink = sink
        self._clock = clock
        self._rate = rate
        self._fixed = frozenset(symbols) if symbols is not None else None
        self._random = random.Random(seed)
        self._walks: dict[str, _Walk] = {}
        self._active: set[str] = set()
        # Per-tick volatility for ~2% a trading day.
        self._sigma = 0.02 / math.sqrt(_TRADING_SECONDS_PER_DAY * rate)

    @property
    def state(self) -> str:
        return "streaming" if self.running else "idle"

    def figures(self) -> dict[str, object]:
        return {"state": self.state, "symbols": len(self._active), "rate_per_symbol": self._rate}

    def accepts(self, symbol: str) -> bool:
        return self._fixed is None or symbol in self._fixed

    @property
    def active(self) -> frozenset[str]:
        return frozenset(self._active)

    def subscribe(self, symbols: Iterable[str]) -> None:
        self._active.update(s for s in symbols if self.accepts(s))

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._active.discard(symbol)
            if self._fixed is None:  # a made-up symbol's walk is memory for nothing (issue 13 #3);
                self._walks.pop(symbol, None)  # a fixed set's walks are few and go on where they were

    def tick(self) -> list[Quote]:
        """One quote for every active symbol, in subscription order."""
        now = self._clock.now_us()
        ts_upstream = now - now % 1000  # providers stamp whole milliseconds
        session = session_at(now)
        quotes = [self._step(symbol, ts_upstream, now, session) for symbol in sorted(self._active)]
        return quotes

    async def run(self) -> None:
        """Tick at the configured rate until cancelled; a late tick does not burst to catch up."""
        interval = 1.0 / self._rate
        next_at = self._clock.monotonic()
        while True:
            quotes = self.tick()
            if quotes:
                self._sink(quotes)
            next_at = max(next_at + interval, self._clock.monotonic())
            await sleep(self._clock, next_at - self._clock.monotonic())  # a ManualClock drives the rate

    def _step(self, symbol: str, ts_upstream: int, now: int, session: str) -> Quote:
        walk = self._walks.get(symbol)
        if walk is None:
            walk = self._walks[symbol] = self._start(symbol)
        walk.price *= math.exp(self._random.gauss(0.0, self._sigma))
        walk.day_volume += self._random.randint(1, 50) * 100
        crypto = symbol.endswith("-USD")
        change = walk.price - walk.previous_close
        return Quote(
            symbol=symbol,
            ts_upstream=ts_upstream,
            ts_library_in=now,
            price=round(walk.price, 4),
            change=round(change, 4),
            change_percent=round(change / walk.previous_close * 100.0, 4),
            day_volume=walk.day_volume,
            market_hours="regular" if crypto else session,  # type: ignore[arg-type]
            currency="USD",
            exchange="CCC" if crypto else "SYN",
        )

    @staticmethod
    def _start(symbol: str) -> _Walk:
        digest = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")
        price = 10.0 + digest % 49_000 / 100.0  # 10 .. 500
        return _Walk(price=price, previous_close=price, day_volume=0)
