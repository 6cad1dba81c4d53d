"""TokenBucket and LogThrottle, on times the test gives."""

from __future__ import annotations

import pytest

from lib_common.core.rate_limit import LogThrottle, TokenBucket


def test_the_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)  # 0.5 s at 2/s: one token
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # saved up to the burst only


def test_the_throttle_logs_the_first_then_one_summary_per_interval() -> None:
    throttle = LogThrottle(interval_s=10)
    told = [throttle.event(t / 1000) for t in range(0, 25_000, 1)]  # 25,000 failures over 25 s
    lines = [(t, quiet) for t, quiet in enumerate(told) if quiet is not None]
    assert lines == [(0, 0), (10_000, 9_999), (20_000, 9_999)]
    assert throttle.total == 25_000


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0)])
def test_the_bucket_refuses_nonsense(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="need rate > 0"):
        TokenBucket(rate, burst, 0.0)
