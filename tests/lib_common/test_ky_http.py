from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.clock import ManualClock
from lib_common.core.backoff import Backoff
from lib_common.ky_http import (
    BROWSER_USER_AGENT,
    KyHttp,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
    sleep_or_wake,
    snippet,
)

URL = "https://query2.finance.yahoo.com/v8/finance/chart/AAPL"


class FakeSleep:
    """Records the waits and moves the manual clock instead of sleeping."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.clock.advance(delay)


def client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    clock: ManualClock | None = None,
    random: float = 0.0,
    backoff_max_s: float = 30.0,
    **kwargs: float,
) -> tuple[KyHttp, FakeSleep]:
    """A KyHttp on a mock transport and a fake sleep; its backoff's jitter draws `random`."""
    clock = clock or ManualClock()
    sleep = FakeSleep(clock)
    http = KyHttp(
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        clock=clock,
        backoff=lambda: Backoff(0.5, backoff_max_s, rand=lambda: random),
        **kwargs,  # type: ignore[arg-type]
    )
    return http, sleep


def replies(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with `responses` in turn (the last one repeats); exceptions are raised."""
    queue = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise type(reply)(str(reply), request=request)  # type: ignore[call-arg]
        return reply

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


# Successful requests


@pytest.mark.asyncio
async def test_get_json_parses_the_body_and_sends_a_browser_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"chart": {"result": []}})

    http, sleep = client(handler)
    async with http:
        response = await http.get_json(URL, params={"interval": "1m", "range": "1d"})
    assert response.ok and response.status == 200 and response.attempts == 1
    assert response.data == {"chart": {"result": []}}
    assert response.error is None and response.retry_after_s is None and response.url == URL
    assert seen[0].headers["User-Agent"] == BROWSER_USER_AGENT
    assert seen[0].url.params["interval"] == "1m" and seen[0].url.params["range"] == "1d"
    assert sleep.delays == []


@pytest.mark.asyncio
async def test_request_headers_override_the_default_user_agent() -> None:
    handler = replies(httpx.Response(200, json={}))
    http, _ = client(handler)
    async with http:
        await http.get_json(URL, headers={"User-Agent": "probe/1"})
    assert handler.seen[0].headers["User-Agent"] == "probe/1"  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_a_body_that_is_not_json_is_an_error_without_retry() -> None:
    handler = replies(httpx.Response(200, text="<html>captcha</html>"))
    http, sleep = client(handler)
    async with http:
        response = await http.get_json(URL)
    assert not response.ok and response.status == 200 and response.data is None
    assert response.error is not None
    assert response.error.startswith("body from query2.finance.yahoo.com/v8/finance/chart/AAPL is not JSON: ")
    assert response.attempts == 1 and sleep.delays == []


# Retries


@pytest.mark.asyncio
async def test_a_503_is_retried_until_it_succeeds() -> None:
    handler = replies(httpx.Response(503), httpx.Response(503), httpx.Response(200, json=[1]))
    http, sleep = client(handler)
    async with http:
        response = await http.get_json(URL)
    assert response.ok and response.data == [1] and response.attempts == 3
    assert sleep.delays == [0.5, 1.0]


@pytest.mark.asyncio
async def test_persistent_5xx_gives_up_after_the_retries_with_a_clear_message() -> None:
    http, sleep = client(replies(httpx.Response(503)), retries=3)
    async with http:
        response = await http.get_json(URL)
    assert not response.ok and response.status == 503 and response.attempts == 4
    assert response.error == "HTTP 503 from query2.finance.yahoo.com/v8/finance/chart/AAPL after 4 attempts"
    assert sleep.delays == [0.5, 1.0, 2.0]


@pytest.mark.asyncio
async def test_backoff_is_capped_and_jittered_down_to_half() -> None:
    http, sleep = client(replies(httpx.Response(500)), retries=6, backoff_max_s=4.0, random=1.0)
    async with http:
        await http.get_json(URL)
    assert sleep.delays == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


@pytest.mark.asyncio
async def test_other_4xx_are_not_retried_and_keep_the_json_body() -> None:
    body = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found"}}}
    http, sleep = client(replies(httpx.Response(404, json=body)))
    async with http:
        response = await http.get_json(URL)
    assert response.status == 404 and response.attempts == 1 and sleep.delays == []
    assert response.error == "HTTP 404 from query2.finance.yahoo.com/v8/finance/chart/AAPL"
    assert response.data == body


@pytest.mark.asyncio
async def test_a_text_error_body_is_quoted_in_the_message() -> None:
    http, _ = client(replies(httpx.Response(418, text="I'm a\n teapot")))
    async with http:
        response = await http.get_json(URL)
    assert response.error == "HTTP 418 from query2.finance.yahoo.com/v8/finance/chart/AAPL: I'm a teapot"


@pytest.mark.asyncio
async def test_retry_after_seconds_lengthens_the_wait() -> None:
    handler = replies(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={}))
    http, sleep = client(handler)
    async with http:
        response = await http.get_json(URL)
    assert response.ok and sleep.delays == [7.0] and response.retry_after_s == 7.0


@pytest.mark.asyncio
async def test_retry_after_is_capped_at_the_backoff_maximum() -> None:
    http, sleep = client(replies(httpx.Response(429, headers={"Retry-After": "3600"})), retries=1)
    async with http:
        response = await http.get_json(URL)
    assert sleep.delays == [30.0]
    assert response.retry_after_s == 3600.0 and response.error is not None and "HTTP 429" in response.error


@pytest.mark.asyncio
async def test_retry_after_as_an_http_date_counts_from_the_clock() -> None:
    clock = ManualClock()
    later = datetime.fromtimestamp(clock.now_us() / 1e6, UTC) + timedelta(seconds=12)
    header = format_datetime(later, usegmt=True)
    handler = replies(httpx.Response(503, headers={"Retry-After": header}), httpx.Response(200, json={}))
    http, sleep = client(handler, clock=clock)
    async with http:
        await http.get_json(URL)
    assert sleep.delays == [12.0]


@pytest.mark.asyncio
async def test_timeouts_are_retried_and_reported_with_the_limit() -> None:
    http, sleep = client(replies(httpx.ReadTimeout("slow")), retries=2, timeout_s=10)
    async with http:
        response = await http.get_json(URL)
    assert response.status is None and response.attempts == 3 and len(sleep.delays) == 2
    assert response.error == "timed out after 10 s on query2.finance.yahoo.com/v8/finance/chart/AAPL after 3 attempts"


@pytest.mark.asyncio
async def test_connection_errors_are_retried() -> None:
    handler = replies(httpx.ConnectError("refused"), httpx.Response(200, json={"ok": True}))
    http, sleep = client(handler)
    async with http:
        response = await http.get_json(URL)
    assert response.ok and response.attempts == 2 and sleep.delays == [0.5]


@pytest.mark.asyncio
async def test_connection_failure_message_names_host_and_cause() -> None:
    http, _ = client(replies(httpx.ConnectError("connection refused")), retries=0)
    async with http:
        response = await http.get_json(URL)
    assert response.error == (
        "connection to query2.finance.yahoo.com/v8/finance/chart/AAPL failed: ConnectError: connection refused"
    )


@pytest.mark.asyncio
async def test_other_transport_failures_are_errors_without_retry() -> None:
    http, sleep = client(replies(httpx.UnsupportedProtocol("no ftp here")))
    async with http:
        response = await http.get_json("ftp://example.com/x")
    assert not response.ok and response.attempts == 1 and sleep.delays == []
    assert response.error == "GET ftp://example.com/x failed: UnsupportedProtocol: no ftp here"


@pytest.mark.asyncio
async def test_an_invalid_url_is_an_error_not_an_exception() -> None:
    http, _ = client(replies(httpx.Response(200)))
    async with http:
        response = await http.get_json("https://[::1")
    assert response.error is not None and response.error == "invalid URL 'https://[::1': Invalid port: ':1'"


@pytest.mark.asyncio
async def test_elapsed_time_includes_the_backoff() -> None:
    http, _ = client(replies(httpx.Response(502), httpx.Response(200, json={})))
    async with http:
        response = await http.get_json(URL)
    assert response.elapsed_s == pytest.approx(0.5)


@pytest.mark.asyncio
async def test_the_context_manager_closes_the_pool() -> None:
    http, _ = client(replies(httpx.Response(200)))
    async with http:
        pass
    assert http._client.is_closed


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        KyHttp(timeout_s=0)
    with pytest.raises(ValueError, match="retries"):
        KyHttp(retries=-1)
    with pytest.raises(ValueError, match="base_s"):
        KyHttp(backoff=lambda: Backoff(5, 1))


# Retry policy


def test_retryable_statuses_are_429_and_5xx() -> None:
    assert [s for s in (200, 301, 400, 404, 408, 418, 429, 500, 503, 599) if is_retryable_status(s)] == [
        429,
        500,
        503,
        599,
    ]


def test_retry_delay_takes_the_longer_wait_within_the_cap() -> None:
    assert retry_delay(2.0, None, 30.0) == 2.0
    assert retry_delay(2.0, 5.0, 30.0) == 5.0
    assert retry_delay(2.0, 0.0, 30.0) == 2.0
    assert retry_delay(2.0, 90.0, 30.0) == 30.0


def test_retry_after_reads_seconds_and_dates() -> None:
    now_us = 1_763_769_600_000_000  # 2025-11-22T00:00:00Z
    assert parse_retry_after("120", now_us=now_us) == 120.0
    assert parse_retry_after(" 0 ", now_us=now_us) == 0.0
    assert parse_retry_after("Sat, 22 Nov 2025 00:01:30 GMT", now_us=now_us) == 90.0
    assert parse_retry_after("Fri, 21 Nov 2025 23:00:00 GMT", now_us=now_us) == 0.0  # in the past
    assert parse_retry_after("soon", now_us=now_us) is None
    assert parse_retry_after("-5", now_us=now_us) is None
    assert parse_retry_after("1.5", now_us=now_us) is None


@given(st.text(max_size=60))
def test_retry_after_never_raises_and_never_goes_negative(value: str) -> None:
    parsed = parse_retry_after(value, now_us=1_763_769_600_000_000)
    assert parsed is None or (parsed >= 0 and not math.isnan(parsed))


@given(st.integers(min_value=0, max_value=10**40))
def test_retry_after_accepts_any_count_of_seconds(seconds: int) -> None:
    parsed = parse_retry_after(str(seconds), now_us=0)
    assert parsed is not None and parsed >= min(seconds, 10**15) * 0.999


def test_snippet_is_one_short_line() -> None:
    assert snippet("a\n  b\tc") == "a b c"
    assert len(snippet("x" * 500)) == 160


# Waiting in pollers


@pytest.mark.asyncio
async def test_sleep_or_wake_returns_when_woken() -> None:
    wake = asyncio.Event()
    started = asyncio.get_running_loop().time()
    waiting = asyncio.create_task(sleep_or_wake(asyncio.sleep, 30.0, wake))
    await asyncio.sleep(0.01)
    wake.set()
    await asyncio.wait_for(waiting, timeout=1.0)
    assert asyncio.get_running_loop().time() - started < 1.0


@pytest.mark.asyncio
async def test_sleep_or_wake_sleeps_the_delay_when_not_woken() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    await sleep_or_wake(sleep, 5.0, asyncio.Event())
    assert delays == [5.0]
