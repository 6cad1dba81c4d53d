"""The price book: one random walk per symbol, its latest snapshot and its minute bars.

The walk is lib_common's `SyntheticFeed` (the model restream's synthetic feed uses), one feed
per symbol with a seed derived from the symbol, so a symbol's path depends only on the seed
and on how often it is stepped, not on which other symbols happen to be tracked. The streamer
and the chart endpoint read the same book, so the chart's bars end at the streamed price.

A symbol enters the book on its first subscription or chart request and stays (its chart must
keep making sense after the last subscriber leaves). It starts with a few backfilled minute
bars that end at its first price, so a chart has history from the start.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lib_common.arguments import positive
from lib_common.clock import Clock
from lib_common.core.quote import MarketHours, Quote
from lib_common.ingestors.synthetic import SyntheticFeed

BACKFILL_MINUTES = 5
MAX_BARS = 24 * 60
_MINUTE_SIGMA = 0.02 / math.sqrt(390)  # ~2% a 390-minute trading day, like the feed's ticks


# What Yahoo tickers look like: AAPL, BRK-B, BTC-USD, ^GSPC, EURUSD=X, 7203.T.
_TICKER = re.compile(r"\^?[A-Z0-9][A-Z0-9.=\-]{0,15}")


def is_crypto(symbol: str) -> bool:
    return symbol.endswith("-USD")


@dataclass(slots=True)
class Bar:
    """One minute of a symbol's trading; `start` is the minute's first second (epoch s)."""

    start: int
    open: float
    high: float
    low: float
    close: float
    volume: int

    def absorb(self, price: float, volume: int) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += volume


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A symbol's state at one step of its walk: what a PricingData frame carries."""

    symbol: str
    time_ms: int
    price: float
    previous_close: float
    day_volume: int
    day_high: float
    day_low: float
    market_hours: MarketHours

    @property
    def crypto(self) -> bool:
        return is_crypto(self.symbol)

    @property
    def change(self) -> float:
        return self.price - self.previous_close

    @property
    def change_percent(self) -> float:
        return self.change / self.previous_close * 100.0


class _Track:
    """One symbol: its walk, its bars, and the volume the backfill added before the walk began."""

    def __init__(self, symbol: str, feed: SyntheticFeed, seed: int) -> None:
        self.symbol = symbol
        self.feed = feed
        self.seed = seed
        self.bars: deque[Bar] = deque(maxlen=MAX_BARS)
        self.backfill_volume = 0
        self.walk_volume = 0
        self.high = -math.inf
        self.low = math.inf
        self.latest: Snapshot | None = None

    def step(self) -> Snapshot:
        (quote,) = self.feed.tick()
        return self._absorb(quote)

    def _absorb(self, quote: Quote) -> Snapshot:
        assert quote.price is not None and quote.change is not None and quote.day_volume is not None
        assert quote.market_hours is not None
        price = quote.price
        minute = quote.ts_upstream // 1_000_000 // 60 * 60
        if not self.bars:
            self._backfill(price, minute)
        volume = quote.day_volume - self.walk_volume
        self.walk_volume = quote.day_volume
        if self.bars[-1].start == minute:
            self.bars[-1].absorb(price, volume)
        else:
            self.bars.append(Bar(minute, price, price, price, price, volume))
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.latest = Snapshot(
            symbol=self.symbol,
            time_ms=quote.ts_upstream // 1000,
            price=price,
            previous_close=round(price - quote.change, 4),
            day_volume=self.backfill_volume + quote.day_volume,
            day_high=self.high,
            day_low=self.low,
            market_hours=quote.market_hours,
        )
        return self.latest

    def _backfill(self, price: float, minute: int) -> None:
        """Minute bars before the first quote, walking backwards from its price."""
        rng = random.Random(self.seed)
        bars: list[Bar] = []
        close = price
        for k in range(1, BACKFILL_MINUTES + 1):
            open_ = round(close * math.exp(rng.gauss(0.0, _MINUTE_SIGMA)), 4)
            wiggle = abs(rng.gauss(0.0, _MINUTE_SIGMA / 2))
            volume = rng.randint(10, 500) * 100
            bars.append(
                Bar(
                    start=minute - 60 * k,
                    open=open_,
                    high=round(max(open_, close) * (1 + wiggle), 4),
                    low=round(min(open_, close) * (1 - wiggle), 4),
                    close=close,
                    volume=volume,
                )
            )
            self.backfill_volume += volume
            self.high = max(self.high, bars[-1].high)
            self.low = min(self.low, bars[-1].low)
            close = open_
        self.bars.extend(reversed(bars))


class PriceBook:
    """Every tracked symbol's walk, stepped together `rate` times a second by `run`."""

    def __init__(
        self,
        clock: Clock,
        *,
        rate: float = 1.0,
        seed: int = 0,
        unknown: Iterable[str] = (),
        on_tick: Callable[[list[Snapshot]], None] | None = None,
    ) -> None:
        positive("rate", rate)
        self._clock = clock
        self._rate = rate
        self._seed = seed
        self._unknown = frozenset(unknown)
        self._tracks: dict[str, _Track] = {}
        self.on_tick = on_tick

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(self._tracks)

    def lists(self, symbol: str) -> bool:
        """Whether the symbol exists here: it looks like a ticker and is not configured as unknown."""
        return _TICKER.fullmatch(symbol) is not None and symbol not in self._unknown

    def track(self, symbols: Iterable[str]) -> None:
        """Start walking these symbols (from the next tick); known and unlisted ones are left alone."""
        for symbol in symbols:
            if symbol not in self._tracks and self.lists(symbol):
                seed = self._seed ^ zlib.crc32(symbol.encode())
                feed = SyntheticFeed(lambda _: None, clock=self._clock, rate=self._rate, symbols=[symbol], seed=seed)
                feed.subscribe([symbol])
                self._tracks[symbol] = _Track(symbol, feed, seed)

    def latest(self, symbol: str) -> Snapshot | None:
        """The symbol's current snapshot (a symbol never stepped takes its first step now); None if unlisted."""
        self.track([symbol])
        track = self._tracks.get(symbol)
        if track is None:
            return None
        return track.latest if track.latest is not None else track.step()

    def bars(self, symbol: str) -> list[Bar]:
        """The symbol's minute bars, oldest first, the last one still forming."""
        self.latest(symbol)
        track = self._tracks.get(symbol)
        return [] if track is None else list(track.bars)

    def tick(self) -> list[Snapshot]:
        """Step every tracked symbol once."""
        snapshots = [track.step() for track in self._tracks.values()]
        if snapshots and self.on_tick is not None:
            self.on_tick(snapshots)
        return snapshots

    async def run(self) -> None:
        """Tick at the configured rate until cancelled; a late tick does not burst to catch up."""
        interval = 1.0 / self._rate
        next_at = self._clock.monotonic()
        while True:
            self.tick()
            next_at = max(next_at + interval, self._clock.monotonic())
            await asyncio.sleep(next_at - self._clock.monotonic())
