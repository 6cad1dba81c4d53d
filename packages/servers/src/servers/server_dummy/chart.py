"""Yahoo's chart API body (`/v8/finance/chart/{symbol}`), built from the price book.

The shape follows query2.finance.yahoo.com: `chart.result[0]` with `meta`, `timestamp[]` (epoch
seconds, one per minute) and `indicators.quote[0]` with open/high/low/close/volume lists; errors
go in `chart.error` with `result: null`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus

from lib_common.core.market_hours import KNOWN_CLOSURES, NEW_YORK, MarketCalendar, TradingHours
from servers.server_dummy.book import Bar, Snapshot
from servers.server_dummy.pricing import exchange_of, price_hint, short_name

CALENDAR = MarketCalendar(KNOWN_CLOSURES)
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
NOT_FOUND = {"code": "Not Found", "description": "No data found, symbol may be delisted"}


def chart_error(code: str, description: str) -> dict[str, object]:
    return {"chart": {"result": None, "error": {"code": code, "description": description}}}


def not_found() -> dict[str, object]:
    return chart_error(NOT_FOUND["code"], NOT_FOUND["description"])


def status_error(status: int) -> dict[str, object]:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return chart_error(phrase, f"server_dummy fault: HTTP {status}")


def trading_day_hours(now_s: int) -> TradingHours:
    """The sessions of today in New York, or of the last trading day before it when closed."""
    day = datetime.fromtimestamp(now_s, NEW_YORK).date()
    for _ in range(15):  # the longest run of closed days is far shorter
        hours = CALENDAR.trading_hours(day)
        if hours is not None:
            return hours
        day -= timedelta(days=1)
    raise AssertionError(f"no trading day in the 15 days before {day}")


def _period(start: datetime, end: datetime) -> dict[str, object]:
    offset = start.utcoffset()
    return {
        "timezone": start.tzname(),
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "gmtoffset": int(offset.total_seconds()) if offset is not None else 0,
    }


def chart_body(snapshot: Snapshot, bars: list[Bar], *, interval: str, range_: str) -> dict[str, object]:
    now_s = snapshot.time_ms // 1000
    hours = trading_day_hours(now_s)
    regular = _period(hours.regular_open, hours.regular_close)
    crypto = snapshot.crypto
    meta = {
        "currency": "USD",
        "symbol": snapshot.symbol,
        "exchangeName": exchange_of(snapshot.symbol, crypto),
        "fullExchangeName": "CCC" if crypto else "NasdaqGS",
        "instrumentType": "CRYPTOCURRENCY" if crypto else "EQUITY",
        "regularMarketTime": now_s,
        "hasPrePostMarketData": not crypto,
        "gmtoffset": regular["gmtoffset"],
        "timezone": regular["timezone"],
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": snapshot.price,
        "regularMarketDayHigh": snapshot.day_high,
        "regularMarketDayLow": snapshot.day_low,
        "regularMarketVolume": snapshot.day_volume,
        "longName": short_name(snapshot.symbol),
        "shortName": short_name(snapshot.symbol),
        "chartPreviousClose": snapshot.previous_close,
        "previousClose": snapshot.previous_close,
        "scale": 3,
        "priceHint": price_hint(snapshot.price),
        "currentTradingPeriod": {
            "pre": _period(hours.pre_open, hours.regular_open),
            "regular": regular,
            "post": _period(hours.regular_close, hours.post_close),
        },
        "dataGranularity": interval,
        "range": range_,
        "validRanges": VALID_RANGES,
    }
    quote = {
        "open": [bar.open for bar in bars],
        "high": [bar.high for bar in bars],
        "low": [bar.low for bar in bars],
        "close": [bar.close for bar in bars],
        "volume": [bar.volume for bar in bars],
    }
    result = {"meta": meta, "timestamp": [bar.start for bar in bars], "indicators": {"quote": [quote]}}
    return {"chart": {"result": [result], "error": None}}
