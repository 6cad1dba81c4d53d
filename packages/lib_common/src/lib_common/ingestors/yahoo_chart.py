"""Polling Yahoo's v8 chart endpoint: the fallback while the streamer is down.

`GET {base}/v8/finance/chart/{SYMBOL}?interval=1m&range=1d` needs no crumb, only a browser-like
User-Agent. `chart.result[0].meta` carries the latest snapshot; `parse_chart` turns it into a
Quote and never invents a field the body lacks.

Per symbol, the poller emits a quote only when it is new: a later `regularMarketTime`, or the
same time with another price. One older than the last emitted is dropped. The upstream manager
switches between the stream and this poller, so `seed` and `last_ts_upstream` carry that order
across a switch-over: clients never see a duplicate or an out-of-order quote of a symbol.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from urllib.parse import quote as url_quote

from lib_common.arguments import at_least, positive
from lib_common.clock import Clock
from lib_common.core.ordering import MonotonicFilter
from lib_common.core.quote import MarketHours, Quote
from lib_common.errors import PayloadError
from lib_common.ky_http import BROWSER_USER_AGENT, KyHttp, sleep_or_wake
from lib_common.payload import expect_list, expect_number, expect_object, optional_number, optional_string

log = logging.getLogger(__name__)

_META = "chart.result[0].meta"


def parse_chart(body: object, *, symbol: str, received_us: int) -> Quote:
    """The quote in a v8 chart body; raises PayloadError naming the JSON path of what is wrong.

    `chart.error` (Yahoo's way of saying "No data found, symbol may be delisted") is an error
    with Yahoo's own words in it.
    """
    chart = expect_object(expect_object(body, "$").get("chart"), "chart")
    error = chart.get("error")
    if error is not None:
        raise PayloadError("chart.error", _yahoo_error(error))
    results = expect_list(chart.get("result"), "chart.result")
    if not results:
        raise PayloadError("chart.result", "empty: no data for the symbol")
    meta = expect_object(expect_object(results[0], "chart.result[0]").get("meta"), _META)
    market_time = meta.get("regularMarketTime")
    if market_time is None:
        raise PayloadError(f"{_META}.regularMarketTime", "missing")
    seconds = expect_number(market_time, f"{_META}.regularMarketTime")
    if not 0 <= seconds < 1e11:
        raise PayloadError(f"{_META}.regularMarketTime", f"not epoch seconds: {market_time!r}")

    price = optional_number(meta.get("regularMarketPrice"))
    previous = optional_number(meta.get("chartPreviousClose"))
    if previous is None:
        previous = optional_number(meta.get("previousClose"))
    change = change_percent = None
    if price is not None and previous is not None:
        change = round(price - previous, 6)
        if previous != 0:
            change_percent = round((price - previous) / previous * 100.0, 6)
    volume = optional_number(meta.get("regularMarketVolume"))
    return Quote(
        symbol=symbol,
        ts_upstream=round(seconds * 1_000_000),
        ts_library_in=received_us,
        price=price,
        change=change,
        change_percent=change_percent,
        day_volume=int(volume) if volume is not None and volume >= 0 and volume.is_integer() else None,
        market_hours=_session(meta.get("currentTradingPeriod"), seconds),
        currency=optional_string(meta.get("currency")),
        exchange=optional_string(meta.get("exchangeName")),
    )


def _yahoo_error(error: object) -> str:
    if isinstance(error, dict):
        code, description = optional_string(error.get("code")), optional_string(error.get("description"))
        text = ": ".join(part for part in (code, description) if part)
        if text:
            return text
    return f"Yahoo reported an error: {error!r:.200}"


def _session(periods: object, seconds: float) -> MarketHours | None:
    """Which of today's trading periods `seconds` falls in; None when the body has no periods.

    The regular period includes its end: the closing print is stamped exactly at the close.
    """
    if not isinstance(periods, dict):
        return None
    bounds: dict[str, tuple[float, float]] = {}
    for name in ("pre", "regular", "post"):
        period = periods.get(name)
        if isinstance(period, dict):
            start, end = optional_number(period.get("start")), optional_number(period.get("end"))
            if start is not None and end is not None:
                bounds[name] = (start, end)
    if not bounds:
        return None
    regular = bounds.get("regular")
    if regular is not None and regular[0] <= seconds <= regular[1]:
        return "regular"
    for name in ("pre", "post"):
        span = bounds.get(name)
        if span is not None and span[0] <= seconds < span[1]:
            return "pre" if name == "pre" else "post"
    return "closed"


class ChartPoller:
    """Polls the chart endpoint for every subscribed symbol and pushes new quotes into `sink`."""

    def __init__(
        self,
        http: KyHttp,
        sink: Callable[[list[Quote]], None],
        *,
        clock: Clock,
        base_url: str = "https://query2.finance.yahoo.com",
        interval_s: float = 5.0,
        concurrency: int = 4,
        user_agent: str = BROWSER_USER_AGENT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        positive("interval_s", interval_s)
        at_least("concurrency", concurrency, 1)
        self._http = http
        self._sink = sink
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self.interval_s = interval_s
        self._limit = asyncio.Semaphore(concurrency)
        self._headers = {"User-Agent": user_agent}
        self._sleep = sleep
        self._active: dict[str, None] = {}  # insertion-ordered set
        self._filter = MonotonicFilter()
        self._failing: dict[str, str] = {}  # symbol -> its current error, for logging transitions
        self._wake = asyncio.Event()
        self._retry_after_s: float | None = None
        # Counters for /metrics.
        self.polls = 0  # requests made (one per symbol per round)
        self.quotes = 0  # quotes emitted
        self.errors = 0  # requests that produced no quote

    # What the registry asks

    def subscribe(self, symbols: Iterable[str]) -> None:
        added = False
        for symbol in symbols:
            if symbol not in self._active:
                self._active[symbol] = None
                added = True
        if added:
            self._wake.set()  # a new subscriber should not wait out the interval

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            if symbol in self._active:
                del self._active[symbol]
                self._filter.released(symbol)
                self._failing.pop(symbol, None)

    @property
    def active(self) -> frozenset[str]:
        return frozenset(self._active)

    # Switch-over

    def last_ts_upstream(self, symbol: str) -> int | None:
        """µs time of the last quote emitted for `symbol` (by this poller or a seed)."""
        return self._filter.last_ts_upstream(symbol)

    def seed(self, symbol: str, ts_upstream: int, price: float | None = None) -> None:
        """Record the last quote clients saw from elsewhere, so polling continues after it."""
        self._filter.seed(symbol, ts_upstream, price)

    def last_error(self, symbol: str) -> str | None:
        return self._failing.get(symbol)

    # Polling

    async def poll_once(self) -> list[Quote]:
        """Fetch every active symbol once; push the new quotes into the sink and return them."""
        symbols = list(self._active)
        if not symbols:
            return []
        results = await asyncio.gather(*(self._fetch(symbol) for symbol in symbols))
        fresh = [q for q in results if q is not None and q.symbol in self._active and self._filter.admit(q)]
        self.quotes += len(fresh)
        if fresh:
            self._sink(fresh)
        return fresh

    async def run(self) -> None:
        """Poll every `interval_s` (longer if Yahoo asked with Retry-After) until cancelled."""
        while True:
            self._wake.clear()
            started = self._clock.monotonic()
            self._retry_after_s = None
            await self.poll_once()
            wait = max(self.interval_s, self._retry_after_s or 0.0) - (self._clock.monotonic() - started)
            await sleep_or_wake(self._sleep, max(wait, 0.0), self._wake)

    async def _fetch(self, symbol: str) -> Quote | None:
        url = f"{self._base_url}/v8/finance/chart/{url_quote(symbol, safe='')}"
        async with self._limit:
            self.polls += 1
            response = await self._http.get_json(url, params=_PARAMS, headers=self._headers)
        received = self._clock.now_us()
        if response.retry_after_s is not None:
            self._retry_after_s = max(self._retry_after_s or 0.0, response.retry_after_s)
        if response.error is not None:
            self._failed(symbol, _with_yahoo_words(response.error, response.data))
            return None
        try:
            quote = parse_chart(response.data, symbol=symbol, received_us=received)
        except PayloadError as exc:
            self._failed(symbol, str(exc))
            return None
        if self._failing.pop(symbol, None) is not None:
            log.info("chart poll of %s recovered", symbol)
        return quote

    def _failed(self, symbol: str, message: str) -> None:
        self.errors += 1
        if self._failing.get(symbol) != message:
            log.warning("chart poll of %s failed: %s", symbol, message)
        self._failing[symbol] = message


_PARAMS: Mapping[str, str] = {"interval": "1m", "range": "1d"}


def _with_yahoo_words(error: str, body: object) -> str:
    """An HTTP error plus Yahoo's explanation when the body carries `chart.error`."""
    chart = body.get("chart") if isinstance(body, dict) else None
    detail = chart.get("error") if isinstance(chart, dict) else None
    return error if detail is None else f"{error}: {_yahoo_error(detail)}"
