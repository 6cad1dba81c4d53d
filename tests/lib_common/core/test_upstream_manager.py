"""UpstreamConductor (plain, no loop) and its UpstreamManager adapter with a fake stream and poller:
states follow health and market hours."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pytest

from lib_common.clock import ManualClock
from lib_common.core.market_hours import NEW_YORK, MarketCalendar
from lib_common.core.quote import Quote
from lib_common.core.symbol_hours import SymbolSessions
from lib_common.core.upstream_manager import Sink, Transition, UpstreamConductor, UpstreamManager
from lib_common.core.upstream_policy import StreamStatus, UpstreamPolicy, UpstreamState

OPEN = int(datetime(2025, 3, 12, 11, 0, tzinfo=NEW_YORK).timestamp() * 1_000_000)
CLOSED = int(datetime(2025, 3, 15, 11, 0, tzinfo=NEW_YORK).timestamp() * 1_000_000)  # Saturday


class FakeStream:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.inactivity_timeout_s: float | None = None
        self.symbols: set[str] = set()
        self.health = StreamStatus(connected=False, receiving=False, silence_s=None, down_s=0.0)

    def subscribe(self, symbols: list[str]) -> None:
        self.symbols.update(symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        self.symbols.difference_update(symbols)

    def status(self) -> StreamStatus:
        return self.health

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class FakePoller:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.interval_s = 0.0
        self.symbols: set[str] = set()
        self.seeded: dict[str, int] = {}
        self.running = 0

    def subscribe(self, symbols: list[str]) -> None:
        self.symbols.update(symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        self.symbols.difference_update(symbols)

    def seed(self, symbol: str, ts_upstream: int) -> None:
        self.seeded[symbol] = ts_upstream

    async def run(self) -> None:
        self.running += 1
        try:
            await asyncio.Event().wait()
        finally:
            self.running -= 1


def market(clock: ManualClock) -> dict[str, Any]:
    """What the conductor and the manager run on here: the clock, NYSE hours, 10 s of silence
    to fail over and 5 s down to poll."""
    return {"clock": clock, "calendar": MarketCalendar(), "policy": UpstreamPolicy(inactivity_s=10, failover_after_s=5)}


def make(start_us: int = OPEN) -> tuple[UpstreamManager, list[Quote], list[Transition], ManualClock]:
    clock = ManualClock(start_us)
    out: list[Quote] = []
    transitions: list[Transition] = []
    conductor = UpstreamConductor(
        out.extend, stream=FakeStream, poller=FakePoller, on_transition=transitions.append, **market(clock)
    )
    manager = UpstreamManager(conductor)
    return manager, out, transitions, clock


def stream(m: UpstreamManager) -> FakeStream:
    assert isinstance(m.stream, FakeStream)
    return m.stream


def poller(m: UpstreamManager) -> FakePoller:
    assert isinstance(m.poller, FakePoller)
    return m.poller


@asynccontextmanager
async def started(
    start_us: int = OPEN,
) -> AsyncIterator[tuple[UpstreamManager, list[Quote], list[Transition], ManualClock]]:
    """make(start_us), started; stopped on leaving."""
    made = make(start_us)
    await made[0].start()
    yield made
    await made[0].stop()


def receiving(silence_s: float = 0) -> StreamStatus:
    return StreamStatus(connected=True, receiving=True, silence_s=silence_s, down_s=None)


def down(down_s: float) -> StreamStatus:
    return StreamStatus(connected=False, receiving=False, silence_s=None, down_s=down_s)


def q(symbol: str, ts: int) -> Quote:
    return Quote(symbol=symbol, ts_upstream=ts, ts_library_in=ts, price=float(ts))


@pytest.mark.asyncio
async def test_idle_until_subscribed_then_streaming() -> None:
    async with started() as (m, _, transitions, _):
        assert m.state is UpstreamState.IDLE
        m.subscribe(["AAPL"])
        assert stream(m).symbols == {"AAPL"}
        assert m.state is UpstreamState.RECONNECTING
        stream(m).health = receiving()
        m.evaluate()
        assert m.state is UpstreamState.STREAMING
        assert [t.target for t in transitions] == [UpstreamState.RECONNECTING, UpstreamState.STREAMING]


@pytest.mark.asyncio
async def test_failover_to_polling_and_back_without_going_back_in_time() -> None:
    async with started() as (m, out, _, _):
        m.subscribe(["AAPL"])
        stream(m).health = receiving()
        stream(m).sink([q("AAPL", 100)])
        stream(m).health = receiving(silence_s=11)
        m.evaluate()
        assert m.state is UpstreamState.POLLING
        await asyncio.sleep(0)
        assert poller(m).running == 1 and poller(m).symbols == {"AAPL"}
        assert poller(m).seeded == {"AAPL": 100}
        poller(m).sink([q("AAPL", 90), q("AAPL", 200)])  # the stale one is dropped
        stream(m).health = receiving()
        stream(m).sink([q("AAPL", 150), q("AAPL", 300)])  # the stream's backlog is older than what polling gave
        assert m.state is UpstreamState.STREAMING  # data on the stream re-evaluates at once
        await asyncio.sleep(0)
        assert poller(m).running == 0 and poller(m).symbols == set()
        assert [x.ts_upstream for x in out] == [100, 200, 300]


@pytest.mark.asyncio
async def test_outside_market_hours_silence_is_not_failure_and_polling_slows() -> None:
    async with started(CLOSED) as (m, _, _, _):
        m.subscribe(["AAPL"])
        stream(m).health = receiving(silence_s=3600)
        m.evaluate()
        assert m.state is UpstreamState.STREAMING and "closed" in m.reason
        assert stream(m).inactivity_timeout_s is None
        assert poller(m).interval_s == 60.0


@pytest.mark.asyncio
async def test_quotes_of_unsubscribed_symbols_are_dropped() -> None:
    async with started() as (m, out, _, _):
        m.subscribe(["AAPL"])
        m.unsubscribe(["AAPL"])
        stream(m).sink([q("AAPL", 1)])
        assert out == [] and m.state is UpstreamState.IDLE


@pytest.mark.asyncio
async def test_ticks_follow_the_clock() -> None:
    async with started() as (m, _, _, clock):
        m.subscribe(["AAPL"])
        stream(m).health = down(6)
        clock.advance(0.3)  # one tick
        assert m.state is UpstreamState.POLLING
    assert m.state is UpstreamState.IDLE


def test_a_manager_refuses_a_conductor_whose_polling_someone_else_runs() -> None:
    clock = ManualClock(OPEN)
    out: list[Quote] = []
    c = UpstreamConductor(out.extend, stream=FakeStream, poller=FakePoller, on_polling=print, **market(clock))
    with pytest.raises(ValueError, match="runs the conductor's polling"):
        UpstreamManager(c)


def test_the_conductor_decides_polling_without_a_loop() -> None:
    """Plain policy: no event loop runs here; whether to poll comes out through on_polling."""
    clock = ManualClock(OPEN)
    decisions: list[bool] = []
    c = UpstreamConductor([].extend, stream=FakeStream, poller=FakePoller, on_polling=decisions.append, **market(clock))
    assert isinstance(c.stream, FakeStream) and isinstance(c.poller, FakePoller)
    c.start()
    c.subscribe(["AAPL"])
    assert c.state is UpstreamState.RECONNECTING and decisions == []
    c.stream.health = down(6)
    c.evaluate()
    assert c.state is UpstreamState.POLLING and decisions == [True] and c.poller.symbols == {"AAPL"}
    c.stream.health = receiving()
    c.evaluate()
    assert c.state is UpstreamState.STREAMING and decisions == [True, False] and c.poller.symbols == set()
    c.stop()
    assert c.state is UpstreamState.IDLE and decisions == [True, False]
    assert c.transitions == {
        "idle->reconnecting": 1,
        "reconnecting->polling": 1,
        "polling->streaming": 1,
        "streaming->idle": 1,
    }


@pytest.mark.asyncio
async def test_stop_while_polling_ends_the_polling_task() -> None:
    async with started() as (m, _, _, _):
        m.subscribe(["AAPL"])
        stream(m).health = down(6)
        m.evaluate()
        await asyncio.sleep(0)
        assert poller(m).running == 1
    assert poller(m).running == 0 and m.state is UpstreamState.IDLE


@pytest.mark.asyncio
async def test_a_clean_start_warns_of_nothing_and_leaving_the_stream_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lib_common.core.upstream_manager")
    async with started() as (m, _, _, _):
        m.subscribe(["AAPL"])  # idle -> reconnecting: the stream is not up yet at a start
        stream(m).health = receiving()
        m.evaluate()  # -> streaming
        stream(m).health = receiving(silence_s=11)
        m.evaluate()  # -> polling: that one is news worth a warning
    moves = [(r.levelno, r.getMessage().split(" (")[0]) for r in caplog.records if "upstream:" in r.getMessage()]
    assert moves[:3] == [
        (logging.INFO, "upstream: idle -> reconnecting"),
        (logging.INFO, "upstream: reconnecting -> streaming"),
        (logging.WARNING, "upstream: streaming -> polling"),
    ]


def per_symbol(start_us: int) -> UpstreamConductor:
    clock = ManualClock(start_us)
    conductor = UpstreamConductor(
        [].extend, stream=FakeStream, poller=FakePoller, symbol_hours=SymbolSessions(), **market(clock)
    )
    conductor.start()
    return conductor


def test_per_symbol_hours_watch_crypto_for_silence_on_a_weekend() -> None:
    c = per_symbol(CLOSED)  # a Saturday
    assert isinstance(c.stream, FakeStream)
    c.subscribe(["AAPL"])
    c.stream.health = receiving(silence_s=3600)
    c.evaluate()
    assert c.state is UpstreamState.STREAMING and c.session == "closed"  # quiet AAPL on a Saturday is normal
    assert c.figures()["sessions"] == {"closed": 1}
    c.subscribe(["BTC-USD"])
    assert c.session == "regular" and c.stream.inactivity_timeout_s == 10
    assert c.state is UpstreamState.POLLING  # an hour of silence while BTC trades is a failure
    assert c.figures()["sessions"] == {"closed": 1, "regular": 1}


def test_per_symbol_hours_watch_the_overnight_session_where_the_feed_reports_it() -> None:
    night = int(datetime(2025, 3, 12, 23, 0, tzinfo=NEW_YORK).timestamp() * 1_000_000)  # Wednesday night
    c = per_symbol(night)
    assert isinstance(c.stream, FakeStream)
    c.subscribe(["TSLA"])
    c.stream.health = receiving(silence_s=0)
    c.evaluate()
    assert c.session == "closed" and c.stream.inactivity_timeout_s is None
    c.stream.sink([Quote(symbol="TSLA", ts_upstream=night, ts_library_in=night, market_hours="overnight")])
    c.evaluate()
    assert c.session == "overnight" and c.stream.inactivity_timeout_s == 10
