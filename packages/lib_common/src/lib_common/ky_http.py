"""A small async HTTP client for JSON APIs: retries, backoff, and answers instead of raises.

`KyHttp.request(method, url, json=...)` (and `get_json`, its GET) returns an `ApiResponse`
whatever happens on the wire: an HTTP error, a timeout or a refused connection comes back with
`error` set to a message that says what happened and where, so a poller can count it and carry
on. Exceptions are for bugs (a body that has no JSON spelling).

The retry policy is plain code: `core.backoff.Backoff` gives exponential steps with jitter,
`retry_delay` lets a server's `Retry-After` (RFC 9110 §10.2.3, read by `parse_retry_after`)
lengthen them up to the backoff's cap (`KyHttp(backoff=...)`, a Backoff factory: a fresh one per
request); all of it is tested without sleeping. Only 429, 5xx, timeouts and connection failures
are retried: another 4xx will not change by asking again.
And only where asking again is safe (`may_retry`): a request whose method is idempotent
(RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE) may be retried after any of those; a
POST or PATCH only when it never left (the connection was refused or not made in time), since
the server may have acted on one that it answered with a 5xx or that timed out. A caller whose
POST is idempotent (an idempotency key) says so with `idempotent=True`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json as jsonlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from types import TracebackType
from typing import Self

import httpx

from lib_common import untrusted_json
from lib_common.arguments import non_negative, positive
from lib_common.clock import Clock, LoopClock
from lib_common.core.backoff import Backoff

log = logging.getLogger(__name__)

# Yahoo and CNN refuse or throttle requests without a browser-like User-Agent (CNN: HTTP 418).
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

_DIGITS = re.compile(r"[0-9]+")
_SNIPPET_CHARS = 160


def snippet(text: str, limit: int = _SNIPPET_CHARS) -> str:
    """One line of at most `limit` characters, for error messages quoting a body."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# Retry policy


def parse_retry_after(value: str, *, now_us: int) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP-date), None if invalid.

    A date in the past means no wait (0.0). See RFC 9110 §10.2.3.
    """
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return float(min(int(text[:16]), 10**15)) if len(text) <= 16 else 1e15
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # RFC 9110 dates are GMT
    return max(0.0, moment.timestamp() - now_us / 1_000_000)


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})  # RFC 9110 §9.2.2


def may_retry(*, idempotent: bool, sent: bool) -> bool:
    """Whether a retryable failure may be retried: always if the request never left, else only
    if asking twice does what asking once does."""
    return idempotent or not sent


def retry_delay(backoff_s: float, retry_after_s: float | None, max_s: float) -> float:
    """The wait before a retry: the backoff's, or longer if the server asked, never past max_s."""
    wait = backoff_s if retry_after_s is None else max(backoff_s, retry_after_s)
    return min(wait, max_s)


# The client


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """The outcome of one logical request, retries included. `error` is None on success."""

    status: int | None
    data: object | None
    error: str | None
    elapsed_s: float
    attempts: int
    retry_after_s: float | None = None
    url: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class _Request:
    """What each attempt of one logical request sends."""

    method: str
    url: str
    params: Mapping[str, str] | None
    headers: Mapping[str, str] | None
    body: bytes | None = None


@dataclass(slots=True)
class _Attempt:
    """What one try produced: a response, or a failure message and whether to try again."""

    response: httpx.Response | None = None
    failure: str | None = None
    retryable: bool = False  # a failure of the kind that asking again may cure
    retry_after_s: float | None = None
    sent: bool = True  # False: the request never reached the server (refused, no connection in time)


class KyHttp:
    """Requests with retries for JSON APIs; one connection pool, closed by `aclose`."""

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff: Callable[[], Backoff] = Backoff,
        user_agent: str = BROWSER_USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Clock | None = None,
    ) -> None:
        positive("timeout_s", timeout_s)
        non_negative("retries", retries)
        self.timeout_s = timeout_s
        self.retries = retries  # retries after the first attempt
        backoff()  # a bad backoff fails now rather than on the first retry
        self._backoff = backoff  # a fresh one per request
        self._sleep = sleep
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
            headers={"User-Agent": user_agent, "Accept": "application/json, text/plain, */*"},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        """GET a JSON body; `data` is the parsed JSON (also on HTTP errors when the body is JSON).
        An empty body is an error: a JSON API always answers a GET with one."""
        return await self._send(_Request("GET", url, params, headers), idempotent=True, empty_ok=False)

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> ApiResponse:
        """`method` (POST, PUT, DELETE, ...) with `json` as the body (None: no body); `data` is the
        answer's JSON, None for an empty one (204). Retried as the module docstring says:
        `idempotent` defaults to the method's nature (RFC 9110 §9.2.2)."""
        verb = method.upper()
        if not verb.isalpha():
            raise ValueError(f"expected an HTTP method such as POST, found {method!r}")
        body = None
        if json is not None:
            try:
                body = jsonlib.dumps(json, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{verb} {url}: the json body has no JSON spelling: {exc}") from None
        safe = verb in IDEMPOTENT_METHODS if idempotent is None else idempotent
        if body is not None:
            headers = {"Content-Type": "application/json", **(headers or {})}
        return await self._send(_Request(verb, url, params, headers, body), idempotent=safe, empty_ok=True)

    async def _send(self, request: _Request, *, idempotent: bool, empty_ok: bool) -> ApiResponse:
        started = self._clock.monotonic()
        method, url = request.method, request.url
        attempts = 0
        last_retry_after: float | None = None
        held_back = False  # a retryable failure not retried because the method is not idempotent
        backoff = self._backoff()
        while True:
            attempts += 1
            outcome = await self._attempt(request)
            if outcome.retry_after_s is not None:
                last_retry_after = outcome.retry_after_s
            if not outcome.retryable or attempts > self.retries:
                break
            if not may_retry(idempotent=idempotent, sent=outcome.sent):
                held_back = True
                break
            delay = retry_delay(backoff.next_delay(), outcome.retry_after_s, backoff.cap_s)
            log.debug("%s %s: %s; retry %d in %.2f s", method, url, outcome.failure, attempts, delay)
            await self._sleep(delay)

        def done(status: int | None, data: object | None, error: str | None) -> ApiResponse:
            return ApiResponse(
                status=status,
                data=data,
                error=error,
                elapsed_s=self._clock.monotonic() - started,
                attempts=attempts,
                retry_after_s=last_retry_after,
                url=url,
            )

        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if held_back:
            tries = f" (not retried: {method} is not idempotent)"
        response = outcome.response
        if response is None:
            return done(None, None, f"{outcome.failure}{tries}")
        where = _where(response.request)
        if not response.is_success:
            answer = _json_or_none(response.content)
            detail = "" if answer is not None or not response.text.strip() else f": {snippet(response.text)}"
            return done(response.status_code, answer, f"HTTP {response.status_code} from {where}{tries}{detail}")
        if empty_ok and not response.content.strip():
            return done(response.status_code, None, None)
        try:
            data: object = untrusted_json.loads(response.content)
        except untrusted_json.BadJSON as exc:
            return done(response.status_code, None, f"body from {where} is not JSON: {exc}")
        return done(response.status_code, data, None)

    async def _attempt(self, request: _Request) -> _Attempt:
        method, url = request.method, request.url
        try:
            response = await self._client.request(
                method, url, params=request.params, headers=request.headers, content=request.body
            )
        except httpx.TimeoutException as exc:
            # No connection in time (connect, or a free one from the pool): nothing was sent.
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            failure = f"timed out after {self.timeout_s:g} s on {_where_failed(exc)}"
            return _Attempt(failure=failure, retryable=True, sent=sent)
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            message = f"connection to {_where_failed(exc)} failed: {type(exc).__name__}: {exc}"
            return _Attempt(failure=message, retryable=True, sent=not isinstance(exc, httpx.ConnectError))
        except httpx.HTTPError as exc:  # unsupported scheme, too many redirects, bad encoding
            return _Attempt(failure=f"{method} {url} failed: {type(exc).__name__}: {exc}")
        except httpx.InvalidURL as exc:
            return _Attempt(failure=f"invalid URL {url!r}: {exc}")
        if response.is_success or not is_retryable_status(response.status_code):
            return _Attempt(response=response)
        retry_after = response.headers.get("Retry-After")
        return _Attempt(
            response=response,
            failure=f"HTTP {response.status_code}",
            retryable=True,
            retry_after_s=None if retry_after is None else parse_retry_after(retry_after, now_us=self._clock.now_us()),
        )


def _where(request: httpx.Request) -> str:
    return f"{request.url.host}{request.url.path}"


def _where_failed(exc: httpx.RequestError) -> str:
    try:
        return _where(exc.request)
    except RuntimeError:  # raised without a request attached (a custom transport's doing)
        return "?"


def _json_or_none(content: bytes) -> object | None:
    try:
        parsed: object = untrusted_json.loads(content)
    except untrusted_json.BadJSON:
        return None
    return parsed


# Waiting in pollers


async def sleep_or_wake(sleep: Callable[[float], Awaitable[None]], delay: float, wake: asyncio.Event) -> None:
    """Wait `delay` seconds through `sleep`, or less if `wake` is set first."""
    if wake.is_set():
        return
    sleeper = asyncio.ensure_future(sleep(delay))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
        await asyncio.gather(sleeper, waker, return_exceptions=True)
