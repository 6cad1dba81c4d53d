"""Polls CNN's graphdata while a client holds `FEAR-GREED`, and emits only what is new."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from lib_common.clock import Clock
from lib_common.core.market_hours import MarketCalendar
from lib_common.core.ordering import MonotonicFilter, TimeWindow
from lib_common.core.quote import Quote
from lib_common.errors import PayloadError
from lib_common.ingestors.cnn.fear_greed import FEAR_GREED_SYMBOL, FearGreed, parse_fear_greed, to_quote
from lib_common.ingestors.cnn.schedule import DEFAULT_SCHEDULE, PollSchedule, Seen, next_poll_delay
from lib_common.ky_http import BROWSER_USER_AGENT, KyHttp, sleep_or_wake

log = logging.getLogger(__name__)

GRAPHDATA_URL = "https://production.dataviz.cnn.io/index/fearandgreed/graphdata"


class FearGreedPoller:
    """The Fear & Greed ingestor: an UpstreamControl whose only symbol is `FEAR-GREED`."""

    def __init__(
        self,
        http: KyHttp,
        sink: Callable[[list[Quote]], None],
        *,
        clock: Clock,
        calendar: MarketCalendar | None = None,
        url: str = GRAPHDATA_URL,
        schedule: PollSchedule = DEFAULT_SCHEDULE,
        user_agent: str = BROWSER_USER_AGENT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        window: TimeWindow | None = None,
    ) -> None:
        self._http = http
        self._sink = sink
        self._clock = clock
        self._calendar = calendar
        self._url = url
        self.schedule = schedule
        # Without a browser-like User-Agent CNN answers 418 I'm a teapot.
        self._headers = {"User-Agent": user_agent}
        self._sleep = sleep
        self._subscribed = False
        self._wake = asyncio.Event()
        # Set while `run` waits for a subscriber (no requests then): /status, and tests that check
        # the idle poller makes no request without waiting on a clock.
        self.idle = asyncio.Event()
        self._filter = MonotonicFilter(None if window is None else clock.now_us, window)
        self.latest: FearGreed | None = None
        self.last_error: str | None = None
        self._errors_in_row = 0
        self._unchanged = 0
        self._move: float | None = None
        self._retry_after_s: float | None = None
        # Counters for /metrics.
        self.polls = 0
        self.quotes = 0
        self.errors = 0

    # What the registry asks

    @property
    def outside_window(self) -> tuple[int, int]:
        """Readings dropped as dated (ahead, behind) the clock window."""
        return self._filter.dropped_ahead, self._filter.dropped_behind

    def subscribe(self, symbols: Iterable[str]) -> None:
        if FEAR_GREED_SYMBOL in symbols and not self._subscribed:
            self._subscribed = True
            self._wake.set()

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        if FEAR_GREED_SYMBOL in symbols and self._subscribed:
            self._subscribed = False
            self._filter.released(FEAR_GREED_SYMBOL)

    @property
    def subscribed(self) -> bool:
        return self._subscribed

    # Polling

    async def poll_once(self) -> Quote | None:
        """Fetch the index once; push the quote into the sink if it is new, and return it."""
        self.polls += 1
        response = await self._http.get_json(self._url, headers=self._headers)
        received = self._clock.now_us()
        if response.error is not None:
            self._retry_after_s = response.retry_after_s
            self._failed(response.error)
            return None
        try:
            index = parse_fear_greed(response.data)
        except PayloadError as exc:
            self._failed(f"unexpected body from {self._url}: {exc}")
            return None
        self._observed(index)
        quote = to_quote(index, received_us=received)
        if not (self._subscribed and self._filter.admit(quote)):
            return None
        self.quotes += 1
        self._sink([quote])
        return quote

    def next_delay(self) -> float:
        """Seconds until the next poll, from the schedule and what the polls so far saw."""
        market_open: bool | None = None
        until_open: float | None = None
        if self._calendar is not None:
            now = self._clock.now_us()
            market_open = self._calendar.session_at(now) == "regular"
            if not market_open:
                until_open = (self._calendar.next_open(now) - now) / 1_000_000
        seen = Seen(
            errors=self._errors_in_row,
            unchanged=self._unchanged,
            move=self._move,
            market_open=market_open,
            until_open_s=until_open,
            retry_after_s=self._retry_after_s,
        )
        return next_poll_delay(seen, self.schedule)

    async def run(self) -> None:
        """Poll on the schedule while subscribed; idle (no requests) while nobody is; until cancelled."""
        while True:
            self._wake.clear()
            if not self._subscribed:
                self.idle.set()
                try:
                    await self._wake.wait()
                finally:
                    self.idle.clear()
                continue
            await self.poll_once()
            await sleep_or_wake(self._sleep, self.next_delay(), self._wake)

    def _observed(self, index: FearGreed) -> None:
        previous = self.latest
        if previous is None:
            self._move, self._unchanged = None, 0
        else:
            self._move = abs(index.score - previous.score)
            same = index.score == previous.score and index.timestamp_us == previous.timestamp_us
            self._unchanged = self._unchanged + 1 if same else 0
        self.latest = index
        if self.last_error is not None:
            log.info("fear & greed poll recovered after %d failures", self._errors_in_row)
        self.last_error, self._errors_in_row, self._retry_after_s = None, 0, None

    def _failed(self, message: str) -> None:
        self.errors += 1
        self._errors_in_row += 1
        if message != self.last_error:
            log.warning("fear & greed poll failed: %s", message)
        self.last_error = message
