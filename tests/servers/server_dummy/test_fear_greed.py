"""CNN Fear & Greed bodies: shape, ratings and history from a date."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from servers.server_dummy.fear_greed import DAY_MS, graphdata, rating
from tests.servers.server_dummy.client import DUMMY_INDICATORS

NOW_MS = 1_763_769_600_000 + 12 * 3_600_000  # 2025-11-22 12:00 UTC


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "extreme fear"), (24.9, "extreme fear"), (25, "fear"), (50, "neutral"), (60, "greed"), (90, "extreme greed")],
)
def test_rating_bands(score: float, expected: str) -> None:
    assert rating(score) == expected


def test_body_has_cnns_sections() -> None:
    body = graphdata(NOW_MS)
    assert set(body) == {"fear_and_greed", "fear_and_greed_historical", *DUMMY_INDICATORS}
    current = body["fear_and_greed"]
    assert isinstance(current, dict)
    assert set(current) == {
        "score",
        "rating",
        "timestamp",
        "previous_close",
        "previous_1_week",
        "previous_1_month",
        "previous_1_year",
    }
    assert current["timestamp"] == "2025-11-22T12:00:00+00:00"
    assert 0 <= current["score"] <= 100 and current["rating"] == rating(current["score"])


def test_history_runs_daily_from_the_date_to_now() -> None:
    body = graphdata(NOW_MS, date(2025, 11, 1))
    for name in ("fear_and_greed_historical", *DUMMY_INDICATORS):
        series = body[name]
        assert isinstance(series, dict) and set(series) == {"timestamp", "score", "rating", "data"}
        xs = [point["x"] for point in series["data"]]
        assert xs[0] == 1_761_955_200_000 and xs[-1] == NOW_MS  # 2025-11-01 00:00 UTC .. now
        assert all(b - a == DAY_MS for a, b in itertools.pairwise(xs[:-1]))


def test_a_future_start_gives_only_the_current_point() -> None:
    series = graphdata(NOW_MS, date(2030, 1, 1))["fear_and_greed_historical"]
    assert isinstance(series, dict) and [p["x"] for p in series["data"]] == [NOW_MS]


def test_same_instant_same_body() -> None:
    assert graphdata(NOW_MS) == graphdata(NOW_MS)
