"""The price book: per-symbol random walks, snapshots and minute bars, on a manual clock."""

from __future__ import annotations

from lib_common.clock import ManualClock
from servers.server_dummy.book import BACKFILL_MINUTES, PriceBook, Snapshot


def walk(book: PriceBook, clock: ManualClock, steps: int) -> list[Snapshot]:
    out: list[Snapshot] = []
    for _ in range(steps):
        out += book.tick()
        clock.advance(1.0)
    return out


def test_a_symbols_path_does_not_depend_on_other_symbols() -> None:
    alone_clock, crowd_clock = ManualClock(), ManualClock()
    alone, crowd = PriceBook(alone_clock), PriceBook(crowd_clock)
    alone.track(["AAPL"])
    crowd.track(["MSFT", "AAPL", "BTC-USD"])
    prices = [s.price for s in walk(alone, alone_clock, 5)]
    assert prices == [s.price for s in walk(crowd, crowd_clock, 5) if s.symbol == "AAPL"]


def test_snapshots_carry_the_clock_time_in_whole_milliseconds() -> None:
    clock = ManualClock(start_us=1_763_769_600_123_456)
    book = PriceBook(clock)
    book.track(["AAPL"])
    (snapshot,) = book.tick()
    assert snapshot.time_ms == 1_763_769_600_123


def test_day_range_holds_the_price() -> None:
    clock = ManualClock()
    book = PriceBook(clock, rate=10)
    book.track(["AAPL"])
    for snapshot in walk(book, clock, 50):
        assert snapshot.day_low <= snapshot.price <= snapshot.day_high


def test_bars_start_with_backfill_and_end_at_the_latest_price() -> None:
    clock = ManualClock(start_us=1_763_769_600_000_000)
    book = PriceBook(clock)
    book.track(["AAPL"])
    walk(book, clock, 130)
    bars = book.bars("AAPL")
    latest = book.latest("AAPL")
    assert latest is not None
    assert bars[-1].close == latest.price
    assert len(bars) == BACKFILL_MINUTES + 3  # 130 s from a whole minute touch three minutes
    assert [b.start for b in bars] == list(range(bars[0].start, bars[-1].start + 1, 60))
    assert all(b.low <= min(b.open, b.close) and max(b.open, b.close) <= b.high for b in bars)


def test_first_chart_request_steps_only_that_symbol() -> None:
    book = PriceBook(ManualClock())
    snapshot = book.latest("NVDA")
    assert snapshot is not None and snapshot.symbol == "NVDA"
    assert book.symbols == {"NVDA"}


def test_unlisted_symbols_are_not_tracked() -> None:
    book = PriceBook(ManualClock(), unknown=["DELISTED"])
    book.track(["DELISTED", "NO$SUCH", "lower", "AAPL"])
    assert book.symbols == {"AAPL"}
    assert book.latest("DELISTED") is None and book.bars("NO$SUCH") == []


def test_tick_hands_snapshots_to_the_listener() -> None:
    got: list[list[Snapshot]] = []
    book = PriceBook(ManualClock(), on_tick=got.append)
    book.tick()  # nothing tracked: no call
    book.track(["AAPL"])
    book.tick()
    assert [[s.symbol for s in batch] for batch in got] == [["AAPL"]]
