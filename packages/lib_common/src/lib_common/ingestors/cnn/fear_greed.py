"""The Fear & Greed body (`GET production.dataviz.cnn.io/index/fearandgreed/graphdata`).

```
{"fear_and_greed": {"score": 45.2, "rating": "neutral", "timestamp": "2025-11-21T21:00:00+00:00",
                    "previous_close": 44.1, "previous_1_week": ..., "previous_1_month": ...,
                    "previous_1_year": ...},
 "fear_and_greed_historical": {"timestamp": <epoch ms>, "score": ..., "rating": ..., "data": [...]},
 "market_momentum_sp500": {"timestamp": <epoch ms>, "score": 62.4, "rating": "greed",
                           "data": [{"x": <epoch ms>, "y": <raw metric>, "rating": "greed"}, ...]},
 ...the other sub-indicators in the same shape}
```

The headline score is required (a clear error naming the JSON path otherwise); every other value
is optional: a sub-indicator CNN drops or reshapes reads as None, never as a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lib_common.core.quote import Quote
from lib_common.errors import PayloadError
from lib_common.payload import expect_number, expect_object, optional_number, optional_string

FEAR_GREED_SYMBOL = "FEAR-GREED"

# Sub-indicators as CNN names them; `y` in their `data` is the raw metric (an S&P level, a ratio...).
INDICATORS = (
    "market_momentum_sp500",
    "market_momentum_sp125",
    "stock_price_strength",
    "stock_price_breadth",
    "put_call_options",
    "market_volatility_vix",
    "market_volatility_vix_50",
    "junk_bond_demand",
    "safe_haven_demand",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_MAX_EPOCH_MS = 1e14  # year 5138: anything later is not epoch milliseconds


@dataclass(frozen=True, slots=True)
class Indicator:
    score: float | None
    rating: str | None
    timestamp_us: int | None
    value: float | None  # the latest raw `y` of its data series


@dataclass(frozen=True, slots=True)
class FearGreed:
    score: float
    rating: str | None
    timestamp_us: int
    previous_close: float | None = None
    previous_1_week: float | None = None
    previous_1_month: float | None = None
    previous_1_year: float | None = None
    market_momentum_sp500: Indicator | None = None
    market_momentum_sp125: Indicator | None = None
    stock_price_strength: Indicator | None = None
    stock_price_breadth: Indicator | None = None
    put_call_options: Indicator | None = None
    market_volatility_vix: Indicator | None = None
    market_volatility_vix_50: Indicator | None = None
    junk_bond_demand: Indicator | None = None
    safe_haven_demand: Indicator | None = None

    def indicators(self) -> dict[str, Indicator]:
        """The sub-indicators the body carried, by CNN's name."""
        found = {name: getattr(self, name) for name in INDICATORS}
        return {name: indicator for name, indicator in found.items() if indicator is not None}


_PREVIOUS = ("previous_close", "previous_1_week", "previous_1_month", "previous_1_year")


def parse_fear_greed(body: object) -> FearGreed:
    """Read a graphdata body; raises PayloadError naming the path of a missing or invalid headline."""
    root = expect_object(body, "$")
    head = expect_object(root.get("fear_and_greed"), "fear_and_greed")
    raw_score = head.get("score")
    if raw_score is None:
        raise PayloadError("fear_and_greed.score", "missing")
    score = expect_number(raw_score, "fear_and_greed.score")
    if not 0.0 <= score <= 100.0:
        raise PayloadError("fear_and_greed.score", f"expected 0..100, found {raw_score!r}")
    indicators = {name: _indicator(root.get(name)) for name in INDICATORS}
    return FearGreed(
        score=score,
        rating=optional_string(head.get("rating")),
        timestamp_us=_headline_time(head, root.get("fear_and_greed_historical")),
        previous_close=optional_number(head.get("previous_close")),
        previous_1_week=optional_number(head.get("previous_1_week")),
        previous_1_month=optional_number(head.get("previous_1_month")),
        previous_1_year=optional_number(head.get("previous_1_year")),
        **indicators,
    )


def _headline_time(head: Mapping[str, object], historical: object) -> int:
    """`fear_and_greed.timestamp` (ISO-8601), else the historical block's epoch-ms timestamp."""
    raw = head.get("timestamp")
    if raw is None:
        fallback = _epoch_ms_to_us(historical.get("timestamp")) if isinstance(historical, dict) else None
        if fallback is None:
            raise PayloadError("fear_and_greed.timestamp", "missing")
        return fallback
    if not isinstance(raw, str):
        raise PayloadError("fear_and_greed.timestamp", f"expected an ISO-8601 time string, found {raw!r:.60}")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise PayloadError("fear_and_greed.timestamp", f"not an ISO-8601 time: {raw!r:.60}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # CNN writes UTC
    ts_us = (moment - _EPOCH) // _ONE_US
    if ts_us < 0:
        raise PayloadError("fear_and_greed.timestamp", f"before 1970: {raw!r:.60}")
    return ts_us


def _indicator(value: object) -> Indicator | None:
    if not isinstance(value, dict):
        return None
    return Indicator(
        score=optional_number(value.get("score")),
        rating=optional_string(value.get("rating")),
        timestamp_us=_epoch_ms_to_us(value.get("timestamp")),
        value=_latest_y(value.get("data")),
    )


def _latest_y(data: object) -> float | None:
    """`y` of the point with the latest `x`; malformed points are skipped."""
    if not isinstance(data, list):
        return None
    latest: tuple[float, float] | None = None
    for point in data:
        if not isinstance(point, dict):
            continue
        x, y = optional_number(point.get("x")), optional_number(point.get("y"))
        if x is not None and y is not None and (latest is None or x >= latest[0]):
            latest = (x, y)
    return None if latest is None else latest[1]


def _epoch_ms_to_us(value: object) -> int | None:
    ms = optional_number(value)
    if ms is None or not 0 <= ms < _MAX_EPOCH_MS:
        return None
    return round(ms * 1000)


def to_quote(index: FearGreed, *, received_us: int) -> Quote:
    """The index as the quote clients of `FEAR-GREED` receive; extras carry rating and history."""
    change = change_percent = None
    if index.previous_close is not None:
        moved = index.score - index.previous_close
        change = round(moved, 6)
        if index.previous_close != 0:
            change_percent = round(moved / index.previous_close * 100.0, 6)
    extra: list[tuple[str, str | int | float | bool]] = []
    if index.rating is not None:
        extra.append(("rating", index.rating))
    for name in _PREVIOUS:
        value = getattr(index, name)
        if value is not None and math.isfinite(value):
            extra.append((name, value))
    return Quote(
        symbol=FEAR_GREED_SYMBOL,
        ts_upstream=index.timestamp_us,
        ts_library_in=received_us,
        price=index.score,
        change=change,
        change_percent=change_percent,
        extra=tuple(extra),
    )
