"""MonotonicFilter's clock window: a quote dated far from the local clock is dropped and counted
before it can become its symbol's last time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lib_common.clock import ManualClock
from lib_common.core.ordering import MonotonicFilter, TimeWindow
from lib_common.core.quote import Quote

NOW = 1_780_000_000_000_000  # µs: 2026
YEAR = 365 * 86_400 * 1_000_000


def quote(ts: int, price: float = 1.0) -> Quote:
    return Quote(symbol="AAPL", ts_upstream=ts, ts_library_in=ts, price=price)


def test_one_frame_ten_years_ahead_no_longer_freezes_the_symbol() -> None:
    # issue 13 #10: the next 128 good quotes were all dropped as out of order
    clock = ManualClock(NOW)
    f = MonotonicFilter(clock.now_us)
    assert not f.admit(quote(NOW + 10 * YEAR))
    passed = 0
    for i in range(128):
        clock.advance(1.0)
        passed += f.admit(quote(clock.now_us(), price=100 + i))
    assert passed == 128
    assert (f.dropped_ahead, f.dropped_behind, f.dropped) == (1, 0, 0)


def test_a_frame_dated_before_the_window_is_dropped_and_counted() -> None:
    f = MonotonicFilter(lambda: NOW, TimeWindow(ahead_s=60, behind_s=3600))
    assert not f.admit(quote(NOW - 3601 * 1_000_000))
    assert f.admit(quote(NOW - 3599 * 1_000_000))
    assert not f.admit(quote(NOW + 61 * 1_000_000))
    assert (f.dropped_ahead, f.dropped_behind) == (1, 1)


def test_without_a_clock_only_order_counts() -> None:
    f = MonotonicFilter()
    assert f.admit(quote(NOW + 10 * YEAR))
    assert not f.admit(quote(NOW))
    assert f.dropped == 1


@given(st.integers(-100 * YEAR, 100 * YEAR), st.floats(0, 3600), st.floats(0, 86_400 * 60))
def test_the_window_is_exactly_its_bounds(offset: int, ahead_s: float, behind_s: float) -> None:
    window = TimeWindow(ahead_s=ahead_s, behind_s=behind_s)
    place = window.place(NOW + offset, NOW)
    if offset > ahead_s * 1e6:
        assert place == "ahead"
    elif -offset > behind_s * 1e6:
        assert place == "behind"
    else:
        assert place is None
