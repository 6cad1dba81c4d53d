"""A synthetic feed: random-walk prices per symbol, so the gateway runs offline.

Each symbol starts at a plausible price: well-known symbols near where they have traded
lately (`START_PRICES`, a small table), crypto pairs by their base's order of magnitude, other
symbols at a deterministic price from the name (10 .. 500). Then a geometric random walk (about
2% daily volatility scaled to the tick), a previous close, a growing day volume, and the
session of the symbol (lib_common.core.symbol_hours): crypto pairs trade around the clock on
exchange CCC (as Yahoo quotes them), everything else by the NYSE calendar.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lib_common.arguments import positive
from lib_common.clock import Clock, sleep
from lib_common.core.quote import MarketHours, Quote
from lib_common.core.symbol_hours import SymbolSessions, round_the_clock
from lib_common.core.tasks import BackgroundTask

_TRADING_SECONDS_PER_DAY = 6.5 * 3600

# Starting prices (USD) of well-known symbols, rounded: where they have traded lately.
START_PRICES = {
    "AAPL": 230.0,
    "MSFT": 420.0,
    "NVDA": 130.0,
    "AMZN": 200.0,
    "GOOGL": 170.0,
    "GOOG": 170.0,
    "META": 580.0,
    "TSLA": 250.0,
    "BRK-B": 460.0,
    "JPM": 220.0,
    "V": 290.0,
    "NFLX": 700.0,
    "AMD": 150.0,
    "INTC": 22.0,
    "SPY": 570.0,
    "QQQ": 490.0,
    "DIA": 420.0,
    "IWM": 220.0,
    "^GSPC": 5700.0,
    "^DJI": 42000.0,
    "^IXIC": 18000.0,
    "^VIX": 16.0,
    "GC=F": 2600.0,
    "CL=F": 70.0,
    "EURUSD=X": 1.08,
}
# Crypto by its base: BTC-USD, BTC-EUR... start near the base's price in USD.
CRYPTO_PRICES = {
    "BTC": 90000.0,
    "ETH": 3200.0,
    "SOL": 200.0,
    "BNB": 600.0,
    "XRP": 0.6,
    "ADA": 0.45,
    "DOGE": 0.15,
    "LTC": 80.0,
    "DOT": 6.0,
    "AVAX": 30.0,
    "LINK": 14.0,
    "USDT": 1.0,
    "USDC": 1.0,
}


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
        positive("rate", rate)
        super().__init__(self.run, name="synthetic-feed")
        self._sink = sink
        self._clock = clock
        self._rate = rate
        self._fixed = frozenset(symbols) if symbols is not None else None
        self._random = random.Random(seed)
        self._walks: dict[str, _Walk] = {}
        self._active: set[str] = set()
        self._hours = SymbolSessions()
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
        hours = self._hours
        return [self._step(s, ts_upstream, now, hours.session_of(s, now)) for s in sorted(self._active)]

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

    def _step(self, symbol: str, ts_upstream: int, now: int, session: MarketHours) -> Quote:
        walk = self._walks.get(symbol)
        if walk is None:
            walk = self._walks[symbol] = self._start(symbol)
        walk.price *= math.exp(self._random.gauss(0.0, self._sigma))
        walk.day_volume += self._random.randint(1, 50) * 100
        crypto = round_the_clock(symbol)
        change = walk.price - walk.previous_close
        return Quote(
            symbol=symbol,
            ts_upstream=ts_upstream,
            ts_library_in=now,
            price=round(walk.price, 4),
            change=round(change, 4),
            change_percent=round(change / walk.previous_close * 100.0, 4),
            day_volume=walk.day_volume,
            market_hours=session,
            currency=(symbol.partition("-")[2] or "USD") if crypto else "USD",
            exchange="CCC" if crypto else "SYN",
        )

    @staticmethod
    def _start(symbol: str) -> _Walk:
        price = start_price(symbol)
        return _Walk(price=price, previous_close=price, day_volume=0)


def start_price(symbol: str) -> float:
    """Where the walk of `symbol` begins (see the module's doc)."""
    digest = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")
    known = START_PRICES.get(symbol)
    if known is None and round_the_clock(symbol):
        # an unknown coin: its order of magnitude from the name, between 0.01 and 1000
        known = CRYPTO_PRICES.get(symbol.partition("-")[0], 10.0 ** (digest % 6 - 2))
    if known is not None:
        return round(known * (0.97 + digest % 600 / 10_000), 6)  # within 3 % of it
    return 10.0 + digest % 49_000 / 100.0  # 10 .. 500
