"""The conductor between the stream, the polling fallback and the clients, and its adapter.

`UpstreamConductor` is plain policy: it owns the symbols the registry wants, hands them to the
stream (and to the poller while polling), merges both sources through a per-symbol ordering
guard, and re-decides its state with `UpstreamPolicy` from market hours (per symbol with a
`SymbolSessions`: the most open session among the symbols wanted) and the stream's health
whenever it is told to `evaluate` (a tick, a subscription, data back on the stream). Each
transition is logged, counted, and reported through `on_transition` (restream turns it into a
status frame); whether the poller should run is reported through `on_polling`. It starts no task
and sleeps nowhere, so tests drive it with a fake stream, a fake poller and a ManualClock.

`UpstreamManager` is the thin adapter that owns what runs: the stream's lifecycle, the tick
timer and the polling task, started and cancelled as the conductor says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from lib_common.clock import Clock, Timer
from lib_common.core.market_hours import MarketCalendar, Sessions
from lib_common.core.ordering import MonotonicFilter, TimeWindow
from lib_common.core.quote import MarketHours, Quote
from lib_common.core.symbol_hours import SymbolSessions
from lib_common.core.upstream_policy import StreamStatus, UpstreamPolicy, UpstreamState

log = logging.getLogger(__name__)

Sink = Callable[[list[Quote]], None]


class Stream(Protocol):
    inactivity_timeout_s: float | None

    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...

    def status(self) -> StreamStatus: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Poller(Protocol):
    interval_s: float

    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...

    def seed(self, symbol: str, ts_upstream: int) -> None: ...

    async def run(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Transition:
    at_us: int
    source: UpstreamState
    target: UpstreamState
    reason: str


class UpstreamConductor:
    """What the upstream does now: stream, reconnect, or poll. No tasks, no sleeping."""

    def __init__(
        self,
        sink: Sink,
        *,
        stream: Callable[[Sink], Stream],
        poller: Callable[[Sink], Poller],
        clock: Clock,
        calendar: Sessions | None = None,
        policy: UpstreamPolicy | None = None,
        poll_interval_open_s: float = 5.0,
        poll_interval_closed_s: float = 60.0,
        on_transition: Callable[[Transition], None] | None = None,
        on_polling: Callable[[bool], None] | None = None,
        window: TimeWindow | None = None,
        symbol_hours: SymbolSessions | None = None,
    ) -> None:
        self._sink = sink
        self.clock = clock
        self._calendar: Sessions = calendar or MarketCalendar()
        # Per symbol when given (crypto around the clock, overnight where reported), else the calendar's.
        self.symbol_hours = symbol_hours
        self.session: MarketHours = "closed"
        self.policy = policy or UpstreamPolicy()
        self._poll_open_s = poll_interval_open_s
        self._poll_closed_s = poll_interval_closed_s
        self._on_transition = on_transition
        self.on_polling = on_polling
        # The clock window is the caller's to choose (restream's feed config): off without one.
        self._filter = MonotonicFilter(None if window is None else clock.now_us, window)
        self.stream = stream(lambda quotes: self._accept("stream", quotes))
        self.poller = poller(lambda quotes: self._accept("polling", quotes))
        self._symbols: set[str] = set()
        self.state = UpstreamState.IDLE
        self.reason = "not started"
        self.transitions: Counter[str] = Counter()
        self.history: list[Transition] = []
        self.quotes: Counter[str] = Counter()  # by source
        self.running = False

    # What the registry asks

    def subscribe(self, symbols: list[str]) -> None:
        new = [s for s in symbols if s not in self._symbols]
        self._symbols.update(new)
        self.stream.subscribe(new)
        if self.state is UpstreamState.POLLING:
            self._seed(new)
            self.poller.subscribe(new)
        self.evaluate()

    def unsubscribe(self, symbols: list[str]) -> None:
        gone = [s for s in symbols if s in self._symbols]
        self._symbols.difference_update(gone)
        self.stream.unsubscribe(gone)
        self.poller.unsubscribe(gone)
        for symbol in gone:
            self._filter.forget(symbol)
            if self.symbol_hours is not None:
                self.symbol_hours.forget(symbol)
        self.evaluate()

    # Lifecycle (the adapter's)

    def start(self) -> None:
        self.running = True
        self.evaluate()

    def stop(self) -> None:
        self.running = False
        self._move(UpstreamState.IDLE, "stopped")

    # The decision

    def evaluate(self) -> None:
        if not self.running:
            return
        now = self.clock.now_us()
        hours = self.symbol_hours
        session = self.session = (
            self._calendar.session_at(now) if hours is None else hours.session_at(now, self._symbols)
        )
        market_open = session != "closed"
        # Outside market hours silence is normal: no inactivity reconnects, slow polling.
        self.stream.inactivity_timeout_s = self.policy.inactivity_s if market_open else None
        self.poller.interval_s = self._poll_open_s if market_open else self._poll_closed_s
        state, reason = self.policy.decide(
            self.state, wanted=bool(self._symbols), session=session, stream=self.stream.status()
        )
        self.reason = reason
        if state is not self.state:
            self._move(state, reason)

    def _move(self, target: UpstreamState, reason: str) -> None:
        if target is self.state:
            return
        source = self.state
        if target is UpstreamState.POLLING:
            symbols = sorted(self._symbols)
            self._seed(symbols)
            self.poller.subscribe(symbols)
            self._polling(True)
        elif source is UpstreamState.POLLING:
            self._polling(False)  # at once, so that a quick return to polling starts afresh
            self.poller.unsubscribe(sorted(self._symbols))
        self.state = target
        transition = Transition(self.clock.now_us(), source, target, reason)
        self.history = [*self.history[-49:], transition]
        self.transitions[f"{source.value}->{target.value}"] += 1
        # Starting, recovering and stopping are news; leaving the stream is a warning.
        calm = source is UpstreamState.IDLE or target in (UpstreamState.STREAMING, UpstreamState.IDLE)
        log.log(
            logging.INFO if calm else logging.WARNING, "upstream: %s -> %s (%s)", source.value, target.value, reason
        )
        if self._on_transition is not None:
            self._on_transition(transition)

    # Internals

    def _polling(self, on: bool) -> None:
        if self.on_polling is not None:
            self.on_polling(on)

    def _accept(self, source: str, quotes: list[Quote]) -> None:
        admitted = [q for q in quotes if q.symbol in self._symbols and self._filter.admit(q)]
        if self.symbol_hours is not None:
            for q in admitted:
                if q.market_hours == "overnight":
                    self.symbol_hours.note(q.symbol, q.market_hours)
        if admitted:
            self.quotes[source] += len(admitted)
            self._sink(admitted)
        if source == "stream" and self.state is not UpstreamState.STREAMING:
            self.evaluate()  # data is back: don't wait for the tick

    def _seed(self, symbols: list[str]) -> None:
        for symbol in symbols:
            ts = self._filter.last_ts_upstream(symbol)
            if ts is not None:
                self.poller.seed(symbol, ts)

    @property
    def outside_window(self) -> tuple[int, int]:
        """Quotes dropped as dated (ahead, behind) the clock window."""
        return self._filter.dropped_ahead, self._filter.dropped_behind

    def figures(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "reason": self.reason,
            "session": self.session,
            **(
                {"sessions": self.symbol_hours.summary(self.clock.now_us(), self._symbols)}
                if self.symbol_hours is not None
                else {}
            ),
            "symbols": len(self._symbols),
            "quotes": dict(self.quotes),
            "dropped_out_of_order": self._filter.dropped,
            "dropped_ahead_of_clock": self._filter.dropped_ahead,
            "dropped_behind_clock": self._filter.dropped_behind,
            "transitions": dict(self.transitions),
        }


class UpstreamManager:
    """The conductor's adapter: starts and stops the stream, ticks the conductor on the clock,
    and runs the poller as a task while the conductor says so."""

    def __init__(self, conductor: UpstreamConductor, *, tick_s: float = 0.25) -> None:
        if conductor.on_polling is not None:
            raise ValueError("the manager runs the conductor's polling: give it a conductor without on_polling")
        conductor.on_polling = self._polling
        self.conductor = conductor
        self._clock = conductor.clock
        self._tick_s = tick_s
        self._timer: Timer | None = None
        self._poll_task: asyncio.Task[None] | None = None
        # The conductor's parts and decisions, as restream and the tests read them.
        self.stream = self.conductor.stream
        self.poller = self.conductor.poller
        self.policy = self.conductor.policy
        self.subscribe = self.conductor.subscribe
        self.unsubscribe = self.conductor.unsubscribe
        self.evaluate = self.conductor.evaluate
        self.figures = self.conductor.figures

    @property
    def state(self) -> UpstreamState:
        return self.conductor.state

    @property
    def reason(self) -> str:
        return self.conductor.reason

    async def start(self) -> None:
        await self.stream.start()
        self.conductor.start()
        self._schedule()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task = self._poll_task
        self.conductor.stop()  # cancels the polling task, if it runs
        self._poll_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.stream.stop()

    def _schedule(self) -> None:
        self._timer = self._clock.call_later(self._tick_s, self._tick)

    def _tick(self) -> None:
        try:
            self.conductor.evaluate()
        finally:
            if self.conductor.running:
                self._schedule()

    def _polling(self, on: bool) -> None:
        """Start the polling task, or cancel it at once (a quick return to polling starts a fresh one)."""
        if on and self._poll_task is None:
            self._poll_task = asyncio.get_running_loop().create_task(self.poller.run(), name="yahoo-polling")
        elif not on and self._poll_task is not None:
            task, self._poll_task = self._poll_task, None
            task.cancel()
