from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.core.ordering import MonotonicFilter
from lib_common.core.quote import Quote
from lib_common.core.upstream_policy import StreamStatus, UpstreamPolicy, UpstreamState

P = UpstreamPolicy(inactivity_s=10, failover_after_s=5)
S, R, POLL, IDLE = UpstreamState.STREAMING, UpstreamState.RECONNECTING, UpstreamState.POLLING, UpstreamState.IDLE

UP = StreamStatus(connected=True, receiving=True, silence_s=1, down_s=None)
SILENT = StreamStatus(connected=True, receiving=True, silence_s=11, down_s=None)
FRESH = StreamStatus(connected=True, receiving=False, silence_s=0.5, down_s=None)
DOWN_SHORT = StreamStatus(connected=False, receiving=False, silence_s=None, down_s=2)
DOWN_LONG = StreamStatus(connected=False, receiving=False, silence_s=None, down_s=6)
DOWN_SILENT = StreamStatus(connected=False, receiving=False, silence_s=11, down_s=0.1)


@pytest.mark.parametrize(
    ("current", "session", "stream", "expected"),
    [
        (S, "regular", UP, S),
        (S, "regular", SILENT, POLL),  # stalled while the market is open: fail over
        (S, "closed", SILENT, S),  # quiet while closed is expected
        (S, "regular", DOWN_SHORT, R),
        (R, "regular", DOWN_LONG, POLL),
        (R, "closed", DOWN_LONG, POLL),
        (POLL, "regular", FRESH, POLL),  # reconnected but no data yet: stay on polling
        (POLL, "regular", DOWN_SHORT, POLL),  # a stalled upstream's reconnects don't flap polling
        (S, "regular", DOWN_SILENT, POLL),  # dropped after a long silence: no grace period
        (S, "closed", DOWN_SILENT, R),
        (POLL, "regular", UP, S),  # data is back
        (R, "regular", FRESH, S),  # a reconnect before failover goes straight back
        (IDLE, "pre", FRESH, S),
    ],
)
def test_decisions(current: UpstreamState, session: str, stream: StreamStatus, expected: UpstreamState) -> None:
    state, reason = P.decide(current, wanted=True, session=session, stream=stream)  # type: ignore[arg-type]
    assert state is expected and reason


def test_nothing_wanted_is_idle() -> None:
    assert P.decide(S, wanted=False, session="regular", stream=UP)[0] is IDLE


def quote(symbol: str, ts: int, price: float) -> Quote:
    return Quote(symbol=symbol, ts_upstream=ts, ts_library_in=ts, price=price)


def test_filter_drops_older_and_identical() -> None:
    f = MonotonicFilter()
    assert f.admit(quote("A", 10, 1.0))
    assert not f.admit(quote("A", 9, 2.0))
    assert not f.admit(quote("A", 10, 1.0))
    assert f.admit(quote("A", 10, 1.5))  # same second, new price: a real update
    assert f.admit(quote("B", 1, 1.0))
    assert f.dropped == 2 and f.last_ts_upstream("A") == 10


@given(st.lists(st.tuples(st.sampled_from("AB"), st.integers(0, 20), st.sampled_from([1.0, 2.0])), max_size=60))
def test_filter_output_never_goes_back_or_repeats(events: list[tuple[str, int, float]]) -> None:
    f = MonotonicFilter()
    seen: dict[str, list[tuple[int, float]]] = {}
    for symbol, ts, price in events:
        if f.admit(quote(symbol, ts, price)):
            seen.setdefault(symbol, []).append((ts, price))
    for passed in seen.values():
        times = [t for t, _ in passed]
        assert times == sorted(times)
        assert all(a != b for a, b in itertools.pairwise(passed))
