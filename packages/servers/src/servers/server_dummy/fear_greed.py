"""CNN's Fear & Greed body (`/index/fearandgreed/graphdata[/YYYY-MM-DD]`), from made-up smooth series.

Shape of production.dataviz.cnn.io (reference/yahoo-streamer.md): `fear_and_greed` with the
score now and at four earlier dates, `fear_and_greed_historical` with one point a day since the
start date, and the sub-indicators with the same shape, whose `y` is the raw metric (VIX level,
put/call ratio, ...) and whose score drives the rating. Every value is a deterministic function
of time, so two requests agree and a test can predict nothing but the shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

DAY_MS = 86_400_000
DEFAULT_HISTORY_DAYS = 365

# (score period phase, raw metric from a score 0..100)
_INDICATORS: dict[str, tuple[float, Callable[[float], float]]] = {
    "market_momentum_sp500": (0.7, lambda s: 5000 + 10 * s),  # S&P 500 level
    "market_momentum_sp125": (6.2, lambda s: 4900 + 10 * s),  # its 125-day average
    "stock_price_strength": (1.9, lambda s: (s - 50) / 10),  # % net new 52-week highs
    "stock_price_breadth": (2.6, lambda s: 500 + 10 * s),  # McClellan volume summation
    "put_call_options": (3.3, lambda s: 0.6 + (100 - s) / 100 * 0.6),  # 5-day put/call ratio
    "market_volatility_vix": (4.1, lambda s: 12 + (100 - s) / 100 * 25),  # VIX
    "junk_bond_demand": (4.8, lambda s: 1.5 + (100 - s) / 100 * 2),  # junk vs investment-grade spread
    "safe_haven_demand": (5.5, lambda s: (s - 50) / 10),  # stocks minus bonds, 20-day returns
}


def rating(score: float) -> str:
    """CNN's bands: 0-24 extreme fear, 25-44 fear, 45-55 neutral, 56-75 greed, 76-100 extreme greed."""
    if score < 25:
        return "extreme fear"
    if score < 45:
        return "fear"
    if score <= 55:
        return "neutral"
    if score <= 75:
        return "greed"
    return "extreme greed"


def score_at(ms: int, phase: float = 0.0) -> float:
    """A smooth 0..100 series: three slow waves with periods of weeks to months."""
    days = ms / DAY_MS
    wave = (
        30 * math.sin(2 * math.pi * days / 61 + phase)
        + 12 * math.sin(2 * math.pi * days / 17 + 2 * phase)
        + 5 * math.sin(2 * math.pi * days / 5.3 + 3 * phase)
    )
    return round(min(100.0, max(0.0, 50 + wave)), 6)


def _days(start: date, now_ms: int) -> list[int]:
    first = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
    return list(range(first, now_ms - now_ms % DAY_MS + 1, DAY_MS)) if first <= now_ms else []


def _series(now_ms: int, start: date, phase: float, raw: Callable[[float], float]) -> dict[str, object]:
    points = [*_days(start, now_ms), now_ms]
    score = score_at(now_ms, phase)
    return {
        "timestamp": now_ms,
        "score": score,
        "rating": rating(score),
        "data": [
            {"x": x, "y": round(raw(score_at(x, phase)), 4), "rating": rating(score_at(x, phase))} for x in points
        ],
    }


def graphdata(now_ms: int, start: date | None = None) -> dict[str, object]:
    if start is None:
        start = (datetime.fromtimestamp(now_ms / 1000, UTC) - timedelta(days=DEFAULT_HISTORY_DAYS)).date()
    score = score_at(now_ms)
    body: dict[str, object] = {
        "fear_and_greed": {
            "score": score,
            "rating": rating(score),
            "timestamp": datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(),
            "previous_close": score_at(now_ms - now_ms % DAY_MS - 1),
            "previous_1_week": score_at(now_ms - 7 * DAY_MS),
            "previous_1_month": score_at(now_ms - 30 * DAY_MS),
            "previous_1_year": score_at(now_ms - 365 * DAY_MS),
        },
        "fear_and_greed_historical": _series(now_ms, start, 0.0, lambda s: s),
    }
    for name, (phase, raw) in _INDICATORS.items():
        body[name] = _series(now_ms, start, phase, raw)
    return body
