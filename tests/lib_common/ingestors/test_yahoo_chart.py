from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.clock import ManualClock
from lib_common.core.ordering import MonotonicFilter
from lib_common.core.quote import Quote
from lib_common.errors import PayloadError
from lib_common.ingestors.yahoo_chart import ChartPoller, parse_chart
from lib_common.ky_http import BROWSER_USER_AGENT, KyHttp
from tests.lib_common.ingestors.payloads import edited, json_values, recorded

BODY = recorded("yahoo_chart_aapl.json")
NOT_FOUND = recorded("yahoo_chart_not_found.json")
MARKET_TIME = BODY["chart"]["result"][0]["meta"]["regularMarketTime"]
RECEIVED = 1_763_757_727_250_000


def body(**meta: object) -> dict[str, Any]:
    """The fixture with some meta fields replaced (None removes the field)."""
    return edited(BODY, ("chart", "result", 0, "meta"), meta)


# Parsing


def test_parses_the_meta_snapshot_into_a_quote() -> None:
    quote = parse_chart(BODY, symbol="AAPL", received_us=RECEIVED)
    assert quote == Quote(
        symbol="AAPL",
        ts_upstream=1_763_757_727_000_000,
        ts_library_in=RECEIVED,
        price=271.49,
        change=5.24,
        change_percent=round((271.49 - 266.25) / 266.25 * 100, 6),
        day_volume=41_784_131,
        market_hours="regular",
        currency="USD",
        exchange="NMS",
    )


@pytest.mark.parametrize(
    ("market_time", "session"),
    [
        (1_763_715_600, "pre"),  # 04:00 ET
        (1_763_735_399, "pre"),
        (1_763_735_400, "regular"),  # 09:30
        (1_763_758_800, "regular"),  # 16:00: the closing print belongs to the session
        (1_763_758_801, "post"),
        (1_763_773_199, "post"),
        (1_763_773_200, "closed"),  # 20:00
        (1_763_600_000, "closed"),  # another day
    ],
)
def test_session_comes_from_the_current_trading_period(market_time: int, session: str) -> None:
    assert parse_chart(body(regularMarketTime=market_time), symbol="AAPL", received_us=0).market_hours == session


def test_missing_fields_stay_missing() -> None:
    sparse = body(
        regularMarketPrice=None,
        currency=None,
        exchangeName=None,
        regularMarketVolume=None,
        currentTradingPeriod=None,
    )
    quote = parse_chart(sparse, symbol="AAPL", received_us=0)
    assert quote.price is None and quote.change is None and quote.change_percent is None
    assert quote.currency is None and quote.exchange is None
    assert quote.day_volume is None and quote.market_hours is None


def test_change_falls_back_to_previous_close() -> None:
    quote = parse_chart(body(chartPreviousClose=None, previousClose=270.0), symbol="AAPL", received_us=0)
    assert quote.change == 1.49


def test_no_previous_close_means_no_change() -> None:
    quote = parse_chart(body(chartPreviousClose=None, previousClose=None), symbol="AAPL", received_us=0)
    assert quote.price == 271.49 and quote.change is None and quote.change_percent is None


def test_optional_fields_of_the_wrong_type_are_dropped_not_guessed() -> None:
    quote = parse_chart(
        body(regularMarketPrice="271.49", regularMarketVolume=1.5, currency=7), symbol="AAPL", received_us=0
    )
    assert quote.price is None and quote.day_volume is None and quote.currency is None


def test_chart_error_carries_yahoos_words() -> None:
    with pytest.raises(PayloadError, match=r"^chart\.error: Not Found: No data found, symbol may be delisted$"):
        parse_chart(NOT_FOUND, symbol="NOPE", received_us=0)


def test_empty_result_is_an_error() -> None:
    with pytest.raises(PayloadError, match=r"^chart\.result: empty"):
        parse_chart({"chart": {"result": [], "error": None}}, symbol="AAPL", received_us=0)


def test_missing_market_time_is_an_error_naming_the_path() -> None:
    with pytest.raises(PayloadError, match=r"^chart\.result\[0\]\.meta\.regularMarketTime: missing$"):
        parse_chart(body(regularMarketTime=None), symbol="AAPL", received_us=0)


def test_market_time_in_milliseconds_is_refused() -> None:
    with pytest.raises(PayloadError, match="not epoch seconds"):
        parse_chart(body(regularMarketTime=MARKET_TIME * 1000), symbol="AAPL", received_us=0)


def test_a_body_of_the_wrong_shape_names_where() -> None:
    with pytest.raises(PayloadError, match=r"^chart\.result\[0\]\.meta: expected an object, found array$"):
        parse_chart({"chart": {"result": [{"meta": []}]}}, symbol="AAPL", received_us=0)


@given(json_values)
def test_arbitrary_json_raises_only_payload_errors(value: object) -> None:
    with contextlib.suppress(PayloadError):
        parse_chart(value, symbol="X", received_us=0)


@given(st.dictionaries(st.sampled_from(sorted(BODY["chart"]["result"][0]["meta"])), json_values, max_size=6))
def test_arbitrary_meta_values_raise_only_payload_errors(changes: dict[str, object]) -> None:
    mutated = copy.deepcopy(BODY)
    mutated["chart"]["result"][0]["meta"].update(changes)
    try:
        quote = parse_chart(mutated, symbol="X", received_us=0)
    except PayloadError:
        return
    assert quote.ts_upstream >= 0


# Ordering


def quote(ts_s: int, price: float | None) -> Quote:
    return Quote(symbol="AAPL", ts_upstream=ts_s * 1_000_000, ts_library_in=0, price=price)


def test_filter_passes_only_newer_snapshots() -> None:
    f = MonotonicFilter()
    assert f.admit(quote(100, 1.0))
    assert not f.admit(quote(100, 1.0))  # duplicate
    assert f.admit(quote(100, 1.5))  # same second, new price
    assert not f.admit(quote(99, 2.0))  # older
    assert f.admit(quote(101, 1.5))
    assert f.last_ts_upstream("AAPL") == 101_000_000


def test_seed_never_moves_time_back() -> None:
    f = MonotonicFilter()
    f.seed("AAPL", 200_000_000, 1.0)
    f.seed("AAPL", 100_000_000, 9.0)
    assert f.last_ts_upstream("AAPL") == 200_000_000
    assert not f.admit(quote(200, 1.0))
    assert not f.admit(quote(150, 9.0))


def test_a_released_symbol_sends_its_snapshot_again_once() -> None:
    f = MonotonicFilter()
    assert f.admit(quote(100, 1.0))
    f.released("AAPL")
    assert f.admit(quote(100, 1.0))
    assert not f.admit(quote(100, 1.0))


def test_seed_after_release_cancels_the_resend() -> None:
    f = MonotonicFilter()
    assert f.admit(quote(100, 1.0))
    f.released("AAPL")
    f.seed("AAPL", 100_000_000, 1.0)
    assert not f.admit(quote(100, 1.0))


# The poller


Handler = Callable[[httpx.Request], httpx.Response] | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def chart_for(symbol: str, market_time: int = MARKET_TIME, price: float = 271.49) -> dict[str, Any]:
    return body(symbol=symbol, regularMarketTime=market_time, regularMarketPrice=price)


def poller(handler: Handler, **kwargs: Any) -> tuple[ChartPoller, KyHttp, list[list[Quote]]]:
    batches: list[list[Quote]] = []
    http = KyHttp(transport=httpx.MockTransport(handler), user_agent="rsdev-test", retries=0, clock=ManualClock())
    return ChartPoller(http, batches.append, clock=ManualClock(RECEIVED), **kwargs), http, batches


@pytest.mark.asyncio
async def test_poll_once_fetches_the_chart_of_each_symbol_with_a_browser_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=chart_for(request.url.path.rsplit("/", 1)[-1]))

    chart, http, batches = poller(handler, base_url="http://127.0.0.1:9/")
    async with http:
        chart.subscribe(["AAPL", "MSFT"])
        quotes = await chart.poll_once()
    assert sorted(str(r.url) for r in seen) == [
        "http://127.0.0.1:9/v8/finance/chart/AAPL?interval=1m&range=1d",
        "http://127.0.0.1:9/v8/finance/chart/MSFT?interval=1m&range=1d",
    ]
    assert all(r.headers["User-Agent"] == BROWSER_USER_AGENT for r in seen)
    assert [q.symbol for q in quotes] == ["AAPL", "MSFT"] and batches == [quotes]
    assert all(q.ts_library_in == RECEIVED for q in quotes)


@pytest.mark.asyncio
async def test_symbols_are_escaped_in_the_path() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json=BODY)

    chart, http, _ = poller(handler)
    async with http:
        chart.subscribe(["^GSPC", "EURUSD=X"])
        await chart.poll_once()
    assert sorted(paths) == [
        "/v8/finance/chart/%5EGSPC?interval=1m&range=1d",
        "/v8/finance/chart/EURUSD%3DX?interval=1m&range=1d",
    ]


@pytest.mark.asyncio
async def test_requests_in_flight_are_bounded_by_concurrency() -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json=BODY)

    chart, http, _ = poller(handler, concurrency=2)
    async with http:
        chart.subscribe([f"S{i}" for i in range(7)])
        quotes = await chart.poll_once()
    assert len(quotes) == 7 and peak == 2


@pytest.mark.asyncio
async def test_an_unchanged_snapshot_is_not_emitted_again() -> None:
    chart, http, batches = poller(lambda request: httpx.Response(200, json=BODY))
    async with http:
        chart.subscribe(["AAPL"])
        assert len(await chart.poll_once()) == 1
        assert await chart.poll_once() == []
    assert len(batches) == 1 and chart.polls == 2 and chart.quotes == 1


@pytest.mark.asyncio
async def test_new_time_or_price_is_emitted_but_an_older_time_never() -> None:
    replies = [
        chart_for("AAPL", MARKET_TIME, 1.0),
        chart_for("AAPL", MARKET_TIME, 2.0),
        chart_for("AAPL", MARKET_TIME - 5, 3.0),
    ]
    replies.append(chart_for("AAPL", MARKET_TIME + 1, 2.0))
    chart, http, _ = poller(lambda request: httpx.Response(200, json=replies.pop(0)))
    async with http:
        chart.subscribe(["AAPL"])
        prices = [[q.price for q in await chart.poll_once()] for _ in range(4)]
    assert prices == [[1.0], [2.0], [], [2.0]]
    assert chart.last_ts_upstream("AAPL") == (MARKET_TIME + 1) * 1_000_000


@pytest.mark.asyncio
async def test_a_seed_from_the_stream_suppresses_older_polls() -> None:
    chart, http, batches = poller(lambda request: httpx.Response(200, json=BODY))
    async with http:
        chart.subscribe(["AAPL"])
        chart.seed("AAPL", MARKET_TIME * 1_000_000 + 500_000)  # the stream stamps milliseconds
        assert await chart.poll_once() == []
    assert batches == [] and chart.last_ts_upstream("AAPL") == MARKET_TIME * 1_000_000 + 500_000


@pytest.mark.asyncio
async def test_a_resubscribed_symbol_gets_the_current_snapshot() -> None:
    chart, http, _ = poller(lambda request: httpx.Response(200, json=BODY))
    async with http:
        chart.subscribe(["AAPL"])
        await chart.poll_once()
        chart.unsubscribe(["AAPL"])
        assert await chart.poll_once() == []  # nobody to poll for
        chart.subscribe(["AAPL"])
        assert len(await chart.poll_once()) == 1


@pytest.mark.asyncio
async def test_a_symbol_dropped_during_the_poll_is_not_emitted() -> None:
    chart: ChartPoller

    def handler(request: httpx.Request) -> httpx.Response:
        chart.unsubscribe(["AAPL"])
        return httpx.Response(200, json=BODY)

    chart, http, batches = poller(handler)
    async with http:
        chart.subscribe(["AAPL"])
        assert await chart.poll_once() == []
    assert batches == []


@pytest.mark.asyncio
async def test_errors_are_counted_and_carry_yahoos_message(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/NOPE"):
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(200, json=BODY)

    chart, http, _ = poller(handler)
    async with http, asyncio.timeout(5):
        chart.subscribe(["AAPL", "NOPE"])
        with caplog.at_level(logging.WARNING, logger="lib_common.ingestors.yahoo_chart"):
            quotes = await chart.poll_once()
    assert [q.symbol for q in quotes] == ["AAPL"] and chart.errors == 1 and chart.polls == 2
    assert chart.last_error("NOPE") == (
        "HTTP 404 from query2.finance.yahoo.com/v8/finance/chart/NOPE: Not Found: No data found, symbol may be delisted"
    )
    assert chart.last_error("AAPL") is None
    assert [r.getMessage() for r in caplog.records] == [f"chart poll of NOPE failed: {chart.last_error('NOPE')}"]


@pytest.mark.asyncio
async def test_a_malformed_body_is_an_error_naming_the_symbol_and_path() -> None:
    chart, http, _ = poller(lambda request: httpx.Response(200, json={"chart": {"result": [{}]}}))
    async with http:
        chart.subscribe(["AAPL"])
        await chart.poll_once()
    assert chart.last_error("AAPL") == "chart.result[0].meta: expected an object, found null"


@pytest.mark.asyncio
async def test_a_failing_symbol_is_logged_once_until_it_recovers(caplog: pytest.LogCaptureFixture) -> None:
    statuses = [503, 503, 503, 200, 503]

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0)
        return httpx.Response(status, json=BODY if status == 200 else {})

    chart, http, _ = poller(handler)
    async with http:
        chart.subscribe(["AAPL"])
        with caplog.at_level(logging.INFO, logger="lib_common.ingestors.yahoo_chart"):
            for _ in range(5):
                await chart.poll_once()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "chart poll of AAPL failed: HTTP 503 from query2.finance.yahoo.com/v8/finance/chart/AAPL",
        "chart poll of AAPL recovered",
        "chart poll of AAPL failed: HTTP 503 from query2.finance.yahoo.com/v8/finance/chart/AAPL",
    ]
    assert chart.errors == 4 and chart.quotes == 1


@pytest.mark.asyncio
async def test_run_polls_every_interval_and_wakes_for_a_new_symbol() -> None:
    requested: list[str] = []
    delays: list[float] = []
    slept = asyncio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(200, json=BODY)

    async def sleep(delay: float) -> None:
        delays.append(delay)
        slept.set()
        await asyncio.Event().wait()  # only a wake ends this sleep

    chart, http, _ = poller(handler, interval_s=5.0, sleep=sleep)
    async with http:
        chart.subscribe(["AAPL"])
        task = asyncio.create_task(chart.run())
        await asyncio.wait_for(slept.wait(), 1)
        slept.clear()
        chart.subscribe(["MSFT"])
        await asyncio.wait_for(slept.wait(), 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert requested[:1] == ["AAPL"] and sorted(requested[1:]) == ["AAPL", "MSFT"]
    assert delays == [5.0, 5.0]


@pytest.mark.asyncio
async def test_run_waits_longer_when_yahoo_asks_to() -> None:
    delays: list[float] = []
    slept = asyncio.Event()

    async def sleep(delay: float) -> None:
        delays.append(delay)
        slept.set()
        await asyncio.Event().wait()

    chart, http, _ = poller(lambda r: httpx.Response(429, headers={"Retry-After": "60"}), interval_s=5.0, sleep=sleep)
    async with http:
        chart.subscribe(["AAPL"])
        task = asyncio.create_task(chart.run())
        await asyncio.wait_for(slept.wait(), 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert delays == [60.0]


@pytest.mark.asyncio
async def test_bad_settings_are_refused() -> None:
    async with KyHttp(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as http:
        with pytest.raises(ValueError, match="interval_s"):
            ChartPoller(http, lambda q: None, clock=ManualClock(), interval_s=0)
        with pytest.raises(ValueError, match="concurrency"):
            ChartPoller(http, lambda q: None, clock=ManualClock(), concurrency=0)
