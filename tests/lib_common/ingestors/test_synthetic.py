from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from lib_common.clock import ManualClock
from lib_common.core.quote import Quote
from lib_common.ingestors.synthetic import SyntheticFeed, start_price


def test_quotes_only_active_symbols_with_all_fields() -> None:
    feed = SyntheticFeed(lambda q: None, clock=ManualClock(), rate=2)
    assert feed.tick() == []
    feed.subscribe(["MSFT", "BTC-USD"])
    quotes = feed.tick()
    assert [q.symbol for q in quotes] == ["BTC-USD", "MSFT"]
    for q in quotes:
        assert q.price is not None and q.price > 0
        assert q.ts_upstream <= q.ts_library_in and q.ts_upstream % 1000 == 0
        assert q.market_hours in ("pre", "regular", "post", "closed")
    assert quotes[0].market_hours == "regular"  # crypto trades around the clock
    feed.unsubscribe(["MSFT"])
    assert [q.symbol for q in feed.tick()] == ["BTC-USD"]


def test_fixed_symbols_refuse_others() -> None:
    feed = SyntheticFeed(lambda q: None, clock=ManualClock(), symbols=["AAPL"])
    assert feed.accepts("AAPL") and not feed.accepts("MSFT")
    feed.subscribe(["AAPL", "MSFT"])
    assert feed.active == frozenset({"AAPL"})


def test_prices_walk_but_stay_sane() -> None:
    feed = SyntheticFeed(lambda q: None, clock=ManualClock(), rate=10)
    feed.subscribe(["AAPL"])
    prices = [feed.tick()[0].price for _ in range(1000)]
    assert len(set(prices)) > 100
    assert all(p is not None and 0.5 * prices[0] < p < 2 * prices[0] for p in prices)  # type: ignore[operator]
    volumes = [feed.tick()[0].day_volume for _ in range(3)]
    assert volumes == sorted(volumes)


def test_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        SyntheticFeed(lambda q: None, clock=ManualClock(), rate=0)


async def settle() -> None:
    """Let the feed's task run up to its next wait (no time passes: the clock is manual)."""
    for _ in range(3):
        await asyncio.sleep(0)


@asynccontextmanager
async def running(rate: float) -> AsyncIterator[tuple[ManualClock, list[list[Quote]]]]:
    """A feed of AAPL at `rate` ticks a second, running on a manual clock: (clock, its batches).
    On leaving, the feed is cancelled and must leave no timer behind."""
    batches: list[list[Quote]] = []
    clock = ManualClock()
    feed = SyntheticFeed(batches.append, clock=clock, rate=rate)
    feed.subscribe(["AAPL"])
    task = asyncio.create_task(feed.run())
    await settle()
    yield clock, batches
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.pending_timers == 0


@pytest.mark.asyncio
async def test_run_emits_at_rate_on_the_clock() -> None:
    async with running(rate=4) as (clock, batches):
        assert len(batches) == 1  # the first tick at once
        for _ in range(8):  # two seconds, a quarter at a time
            clock.advance(0.25)
            await settle()
        assert len(batches) == 9
        clock.advance(0.2)
        await settle()
        assert len(batches) == 9, "not before the next quarter second"


@pytest.mark.asyncio
async def test_a_late_tick_does_not_burst_to_catch_up() -> None:
    async with running(rate=4) as (clock, batches):
        clock.advance(10)  # the loop was busy for ten seconds: one timer fired, one tick follows
        await settle()
        assert len(batches) == 2
        clock.advance(0.25)
        await settle()
        assert len(batches) == 3


@pytest.mark.parametrize(
    ("symbol", "low", "high"),
    [
        ("AAPL", 150, 350),
        ("SPY", 400, 800),
        ("BTC-USD", 30_000, 200_000),
        ("ETH-EUR", 1_000, 10_000),
        ("DOGE-USD", 0.01, 1.0),
        ("EURUSD=X", 0.8, 1.4),
        ("ZZTOP", 10, 500),
    ],
)
def test_symbols_start_at_plausible_prices(symbol: str, low: float, high: float) -> None:
    assert low <= start_price(symbol) <= high
    assert start_price(symbol) == start_price(symbol)  # deterministic


def test_crypto_has_its_own_round_the_clock_session() -> None:
    saturday_night = 1_764_392_400_000_000  # 2025-11-29 00:00 New York, a Saturday
    feed = SyntheticFeed(lambda q: None, clock=ManualClock(start_us=saturday_night))
    feed.subscribe(["BTC-EUR", "AAPL"])
    by_symbol = {q.symbol: q for q in feed.tick()}
    assert by_symbol["BTC-EUR"].market_hours == "regular" and by_symbol["BTC-EUR"].exchange == "CCC"
    assert by_symbol["BTC-EUR"].currency == "EUR"
    assert by_symbol["AAPL"].market_hours == "closed" and by_symbol["AAPL"].currency == "USD"
