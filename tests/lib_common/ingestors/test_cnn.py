from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.clock import ManualClock
from lib_common.core.market_hours import MarketCalendar
from lib_common.core.quote import Quote
from lib_common.errors import PayloadError
from lib_common.ingestors.cnn import (
    FEAR_GREED_SYMBOL,
    INDICATORS,
    FearGreed,
    FearGreedPoller,
    Indicator,
    PollSchedule,
    Seen,
    next_poll_delay,
    parse_fear_greed,
    to_quote,
)
from lib_common.ky_http import BROWSER_USER_AGENT, KyHttp
from tests.lib_common.ingestors.payloads import edited, json_values, recorded

BODY = recorded("cnn_graphdata.json")
HEADLINE_US = 1_763_769_598_000_000  # 2025-11-21T23:59:58Z


def us(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 1_000_000


REGULAR = us(2025, 11, 21, 15, 0)  # Friday 10:00 New York
SATURDAY = us(2025, 11, 22, 15, 0)
MONDAY_PRE = us(2025, 11, 24, 14, 28)  # two minutes before the open


def body(**headline: object) -> dict[str, Any]:
    """The fixture with some `fear_and_greed` fields replaced (None removes the field)."""
    return edited(BODY, ("fear_and_greed",), headline)


# Parsing


def test_parses_the_headline() -> None:
    index = parse_fear_greed(BODY)
    assert index.score == 11.8285714285714 and index.rating == "extreme fear"
    assert index.timestamp_us == HEADLINE_US
    assert index.previous_close == 10.3142857142857
    assert index.previous_1_week == 20.9428571428571
    assert index.previous_1_month == 28.5714285714286
    assert index.previous_1_year == 57.6571428571429


def test_parses_every_sub_indicator_with_its_latest_raw_value() -> None:
    index = parse_fear_greed(BODY)
    assert sorted(index.indicators()) == sorted(INDICATORS)
    assert index.market_volatility_vix == Indicator(
        score=12.6, rating="extreme fear", timestamp_us=HEADLINE_US, value=23.43
    )
    assert index.put_call_options is not None and index.put_call_options.value == 0.91
    assert index.market_momentum_sp500 is not None and index.market_momentum_sp500.value == 6602.99


def test_the_latest_point_wins_whatever_the_order() -> None:
    shuffled = copy.deepcopy(BODY)
    shuffled["junk_bond_demand"]["data"].reverse()
    shuffled["junk_bond_demand"]["data"].append({"x": "bad", "y": 9.9})
    index = parse_fear_greed(shuffled)
    assert index.junk_bond_demand is not None and index.junk_bond_demand.value == 1.86


def test_missing_sub_indicators_are_tolerated() -> None:
    sparse = copy.deepcopy(BODY)
    del sparse["safe_haven_demand"], sparse["stock_price_breadth"]
    sparse["put_call_options"] = "gone"
    sparse["junk_bond_demand"] = {"score": 20.4}
    index = parse_fear_greed(sparse)
    assert index.safe_haven_demand is None and index.stock_price_breadth is None and index.put_call_options is None
    assert index.junk_bond_demand == Indicator(score=20.4, rating=None, timestamp_us=None, value=None)
    assert "safe_haven_demand" not in index.indicators()


def test_missing_history_stays_missing() -> None:
    index = parse_fear_greed(body(previous_1_year=None, previous_close="n/a", rating=None))
    assert index.previous_1_year is None and index.previous_close is None and index.rating is None


def test_missing_score_is_an_error_naming_the_path() -> None:
    with pytest.raises(PayloadError, match=r"^fear_and_greed\.score: missing$"):
        parse_fear_greed(body(score=None))


@pytest.mark.parametrize(
    ("score", "found"),
    [("45", "expected a number, found string"), (True, "expected a number, found boolean"), (101, "expected 0..100")],
)
def test_invalid_score_is_an_error_naming_the_path(score: object, found: str) -> None:
    with pytest.raises(PayloadError, match=rf"^fear_and_greed\.score: {found}"):
        parse_fear_greed(body(score=score))


def test_missing_headline_is_an_error() -> None:
    with pytest.raises(PayloadError, match=r"^fear_and_greed: expected an object, found null$"):
        parse_fear_greed({"fear_and_greed_historical": {}})


def test_timestamp_falls_back_to_the_historical_block() -> None:
    assert parse_fear_greed(body(timestamp=None)).timestamp_us == HEADLINE_US


def test_timestamp_missing_everywhere_is_an_error() -> None:
    bare = body(timestamp=None)
    del bare["fear_and_greed_historical"]
    with pytest.raises(PayloadError, match=r"^fear_and_greed\.timestamp: missing$"):
        parse_fear_greed(bare)


def test_a_bad_timestamp_is_an_error() -> None:
    with pytest.raises(PayloadError, match=r"^fear_and_greed\.timestamp: not an ISO-8601 time: 'yesterday'$"):
        parse_fear_greed(body(timestamp="yesterday"))


def test_a_naive_timestamp_is_utc() -> None:
    assert parse_fear_greed(body(timestamp="2025-11-21T23:59:58")).timestamp_us == HEADLINE_US


@given(json_values)
def test_arbitrary_json_raises_only_payload_errors(value: object) -> None:
    with contextlib.suppress(PayloadError):
        parse_fear_greed(value)


@given(
    st.dictionaries(st.sampled_from(sorted(BODY["fear_and_greed"])), json_values, max_size=4),
    st.dictionaries(st.sampled_from(sorted(BODY)), json_values, max_size=4),
)
def test_arbitrary_values_in_a_real_body_raise_only_payload_errors(
    headline: dict[str, object], top: dict[str, object]
) -> None:
    mutated = copy.deepcopy(BODY)
    mutated["fear_and_greed"].update(headline)
    mutated.update(top)
    try:
        index = parse_fear_greed(mutated)
    except PayloadError:
        return
    assert 0 <= index.score <= 100 and index.timestamp_us >= 0


# The quote


def test_the_quote_carries_score_change_and_history() -> None:
    quote = to_quote(parse_fear_greed(BODY), received_us=HEADLINE_US + 5)
    assert quote.symbol == FEAR_GREED_SYMBOL == "FEAR-GREED"
    assert quote.price == 11.8285714285714 and quote.ts_upstream == HEADLINE_US
    assert quote.ts_library_in == HEADLINE_US + 5
    assert quote.change == round(11.8285714285714 - 10.3142857142857, 6)
    assert quote.change_percent == round((11.8285714285714 - 10.3142857142857) / 10.3142857142857 * 100, 6)
    assert quote.extra == (
        ("rating", "extreme fear"),
        ("previous_close", 10.3142857142857),
        ("previous_1_week", 20.9428571428571),
        ("previous_1_month", 28.5714285714286),
        ("previous_1_year", 57.6571428571429),
    )


def test_the_quote_invents_nothing() -> None:
    quote = to_quote(FearGreed(score=50.0, rating=None, timestamp_us=1), received_us=2)
    assert quote.change is None and quote.change_percent is None and quote.extra == ()
    assert quote.market_hours is None and quote.currency is None


# The schedule


def test_errors_back_off_exponentially_within_bounds() -> None:
    assert [next_poll_delay(Seen(errors=n)) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize(
    ("seen", "delay"),
    [
        pytest.param(Seen(errors=1, retry_after_s=200), 200, id="an error waits at least what the server asks"),
        pytest.param(Seen(errors=1, retry_after_s=5000), 900, id="an error waits at most the maximum"),
        pytest.param(Seen(market_open=False), 900, id="a closed market polls rarely"),
        pytest.param(
            Seen(market_open=False, until_open_s=7200), 900, id="a closed market polls rarely long before the open"
        ),
        pytest.param(Seen(market_open=False, until_open_s=120), 121, id="a closed market wakes just after the open"),
        pytest.param(Seen(market_open=False, until_open_s=2), 30, id="a closed market waits at least the minimum"),
        pytest.param(Seen(market_open=True), 60, id="an open market polls every minute"),
        pytest.param(Seen(market_open=True, move=0.4), 60, id="an open market polls every minute on a small move"),
        pytest.param(Seen(market_open=True, move=1.0), 30, id="a fast-moving score polls fastest"),
        pytest.param(Seen(market_open=None, move=3.5), 30, id="a fast-moving score polls fastest without a calendar"),
        pytest.param(Seen(market_open=None, unchanged=2), 120, id="without a calendar the open cadence applies"),
    ],
)
def test_the_next_poll_waits(seen: Seen, delay: float) -> None:
    assert next_poll_delay(seen) == delay


def test_a_stable_score_stretches_the_interval() -> None:
    delays = [next_poll_delay(Seen(market_open=True, unchanged=n)) for n in range(8)]
    assert delays == [60, 60, 120, 120, 240, 240, 300, 300]


def test_a_custom_schedule_is_honoured() -> None:
    fast = PollSchedule(min_s=5, open_s=10, stable_max_s=20, closed_s=40, error_base_s=5, max_s=40)
    assert next_poll_delay(Seen(market_open=True, unchanged=10), fast) == 20
    assert next_poll_delay(Seen(errors=10), fast) == 40


def test_a_bad_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="min_s"):
        PollSchedule(min_s=0)
    with pytest.raises(ValueError, match="closed_s"):
        PollSchedule(closed_s=-1)


# The poller


def browser_only(replies: list[dict[str, Any]] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """CNN's behaviour: 418 without a browser User-Agent; else the next reply (the last repeats)."""
    queue = list(replies or [BODY])

    def handler(request: httpx.Request) -> httpx.Response:
        if not request.headers.get("User-Agent", "").startswith("Mozilla/"):
            return httpx.Response(418, text="I'm a teapot")
        return httpx.Response(200, json=queue.pop(0) if len(queue) > 1 else queue[0])

    return handler


def poller(
    handler: Callable[[httpx.Request], httpx.Response], *, now_us: int = REGULAR, **kwargs: Any
) -> tuple[FearGreedPoller, KyHttp, list[list[Quote]]]:
    batches: list[list[Quote]] = []
    http = KyHttp(transport=httpx.MockTransport(handler), user_agent="rsdev/0.1", retries=0, clock=ManualClock())
    fg = FearGreedPoller(http, batches.append, clock=ManualClock(now_us), calendar=MarketCalendar(), **kwargs)
    return fg, http, batches


@pytest.mark.asyncio
async def test_poll_once_sends_a_browser_user_agent_and_emits_the_quote() -> None:
    fg, http, batches = poller(browser_only())
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        quote = await fg.poll_once()
    assert quote is not None and quote.price == 11.8285714285714 and quote.ts_library_in == REGULAR
    assert batches == [[quote]] and fg.polls == 1 and fg.quotes == 1 and fg.errors == 0
    assert fg.latest == parse_fear_greed(BODY)


@pytest.mark.asyncio
async def test_without_a_browser_user_agent_cnn_answers_418() -> None:
    fg, http, batches = poller(browser_only(), user_agent="python-httpx/0.28")
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        assert await fg.poll_once() is None
    assert batches == [] and fg.errors == 1
    assert fg.last_error == "HTTP 418 from production.dataviz.cnn.io/index/fearandgreed/graphdata: I'm a teapot"


@pytest.mark.asyncio
async def test_only_a_changed_score_or_timestamp_is_emitted() -> None:
    replies = [
        BODY,
        BODY,
        body(score=12.5),
        body(score=12.5, timestamp="2025-11-22T00:05:00+00:00"),
        body(score=40.0, timestamp="2025-11-21T20:00:00+00:00"),  # older: never emitted
    ]
    fg, http, batches = poller(browser_only(replies))
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        emitted = [await fg.poll_once() for _ in replies]
    assert [q.price if q else None for q in emitted] == [11.8285714285714, None, 12.5, 12.5, None]
    assert len(batches) == 3


@pytest.mark.asyncio
async def test_subscribes_only_to_its_own_symbol() -> None:
    fg, http, _ = poller(browser_only())
    async with http:
        fg.subscribe(["AAPL"])
        assert not fg.subscribed
        fg.subscribe(["AAPL", FEAR_GREED_SYMBOL])
        assert fg.subscribed
    fg.unsubscribe([FEAR_GREED_SYMBOL.lower()])
    assert fg.subscribed, "the symbol is FEAR-GREED exactly"


@pytest.mark.asyncio
async def test_a_resubscriber_gets_the_current_reading() -> None:
    fg, http, batches = poller(browser_only())
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        await fg.poll_once()
        fg.unsubscribe([FEAR_GREED_SYMBOL])
        assert await fg.poll_once() is None  # nobody listening
        fg.subscribe([FEAR_GREED_SYMBOL])
        assert await fg.poll_once() is not None
    assert len(batches) == 2


@pytest.mark.parametrize(
    ("now_us", "delay"),
    [(REGULAR, 60.0), (SATURDAY, 900.0), (MONDAY_PRE, 121.0)],
)
@pytest.mark.asyncio
async def test_next_delay_follows_the_market(now_us: int, delay: float) -> None:
    fg, http, _ = poller(browser_only(), now_us=now_us)
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        await fg.poll_once()
    assert fg.next_delay() == delay


@pytest.mark.asyncio
async def test_next_delay_backs_off_on_errors_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    statuses = [503, 503, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0)
        return httpx.Response(status, json=BODY if status == 200 else {})

    fg, http, _ = poller(handler)
    delays = []
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        with caplog.at_level(logging.INFO, logger="lib_common.ingestors.cnn.poller"):
            for _ in range(3):
                await fg.poll_once()
                delays.append(fg.next_delay())
    assert delays == [30.0, 60.0, 60.0] and fg.errors == 2 and fg.last_error is None
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


@pytest.mark.asyncio
async def test_a_malformed_body_is_reported_with_the_path() -> None:
    fg, http, _ = poller(browser_only([body(score=None)]))
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        await fg.poll_once()
    assert fg.last_error == (
        "unexpected body from https://production.dataviz.cnn.io/index/fearandgreed/graphdata: "
        "fear_and_greed.score: missing"
    )


@pytest.mark.asyncio
async def test_a_fast_move_shortens_the_next_delay() -> None:
    fg, http, _ = poller(browser_only([BODY, body(score=14.0)]))
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        await fg.poll_once()
        await fg.poll_once()
    assert fg.next_delay() == 30.0


@pytest.mark.asyncio
async def test_run_polls_on_the_schedule_only_while_subscribed() -> None:
    requests = 0
    delays: list[float] = []
    slept = asyncio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        return browser_only()(request)

    async def sleep(delay: float) -> None:
        delays.append(delay)
        slept.set()
        if len(delays) < 3:
            return  # the delay passes at once
        await asyncio.Event().wait()

    fg, http, batches = poller(handler, now_us=SATURDAY, sleep=sleep)
    async with http:
        task = asyncio.create_task(fg.run())
        await asyncio.wait_for(fg.idle.wait(), 5)
        assert requests == 0  # nobody subscribed: the poller waits without traffic
        fg.subscribe([FEAR_GREED_SYMBOL])
        while len(delays) < 3:
            await asyncio.wait_for(slept.wait(), 1)
            slept.clear()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert requests == 3 and delays == [900.0, 900.0, 900.0] and len(batches) == 1


@pytest.mark.asyncio
async def test_run_stops_polling_after_unsubscribe() -> None:
    requests = 0
    fg: FearGreedPoller

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        fg.unsubscribe([FEAR_GREED_SYMBOL])
        return browser_only()(request)

    async def sleep(delay: float) -> None:
        await asyncio.sleep(0)

    fg, http, batches = poller(handler, sleep=sleep)
    async with http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        task = asyncio.create_task(fg.run())
        await asyncio.wait_for(fg.idle.wait(), 5)  # back to waiting for a subscriber
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert requests == 1 and batches == []


@pytest.mark.asyncio
async def test_the_default_user_agent_gets_past_cnns_browser_check() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["User-Agent"])
        return browser_only()(request)

    fg, http, _ = poller(handler)
    library, library_http, _ = poller(handler, user_agent="python-httpx/0.28.1")
    async with http, library_http:
        fg.subscribe([FEAR_GREED_SYMBOL])
        library.subscribe([FEAR_GREED_SYMBOL])
        assert await fg.poll_once() is not None
        assert await library.poll_once() is None  # what CNN answers a library: 418
    assert seen == [BROWSER_USER_AGENT, "python-httpx/0.28.1"]
    assert fg.errors == 0 and library.errors == 1 and "418" in str(library.last_error)
