"""ReplayFeed on a ManualClock: pacing, the first subscription, pauses, loops, back-pressure."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from lib_common.clock import ManualClock
from lib_common.core.frame import Frame
from lib_common.core.upstream_manager import Transition
from lib_common.ingestors.replay import ReplayFeed
from tests.lib_common.ingestors.replay.recording import START_US, session, write_day

pytestmark = pytest.mark.asyncio


class Harness:
    def __init__(self, tmp_path: Path, ticks: int = 10, **options: object) -> None:
        self.clock = ManualClock(start_us=1_800_000_000_000_000)
        self.quotes = session(["AAPL", "MSFT"], ticks)  # 10 a second each
        path = write_day(tmp_path / "quotes-2025-11-21.ndjson.gz", self.quotes, [b"garbage\n"])
        self.frames: list[Frame] = []
        self.transitions: list[Transition] = []
        self.feed = ReplayFeed(
            [path],
            self.frames.extend,
            clock=self.clock,
            on_transition=self.transitions.append,
            **options,  # type: ignore[arg-type]
        )

    async def settle(self) -> None:
        for _ in range(20):  # the file is read in a thread
            await asyncio.sleep(0.01)

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.settle()


async def test_begins_with_the_first_subscription_and_keeps_the_recorded_pace(tmp_path: Path) -> None:
    h = Harness(tmp_path, speed=1.0)
    await h.feed.start()
    await h.settle()
    assert h.frames == [] and h.feed.state == "idle"
    h.feed.subscribe(["AAPL"])
    await h.settle()
    assert h.feed.state == "streaming"
    assert len(h.frames) == 1  # the first quote at once, the next due 0.1 s later
    await h.advance(0.45)
    assert len(h.frames) == 5
    body = json.loads(h.frames[-1].payload)
    assert body["symbol"] == "AAPL" and body["ts_upstream"] == START_US + 400_000
    first = h.frames[0]
    assert first.ts_library_in == first.ts_library_out == h.clock.now_us() - 450_000
    await h.advance(1.0)
    assert len(h.frames) == 10 and h.feed.state == "idle"
    assert [t.target.value for t in h.transitions] == ["streaming", "idle"]
    figures = h.feed.figures()
    assert figures["sent"] == 10 and figures["lines"] == 21 and figures["bad_lines"] == {"not_json": 1}
    await h.feed.stop()


async def test_speed_scales_the_pace(tmp_path: Path) -> None:
    h = Harness(tmp_path, speed=10.0)
    await h.feed.start()
    h.feed.subscribe(["AAPL", "MSFT"])
    await h.settle()
    await h.advance(0.045)  # 0.45 s of the recording
    assert [f.symbol for f in h.frames] == ["AAPL", "MSFT"] * 5
    stamps = [f.ts_library_in for f in h.frames[::2]]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [10_000] * 4  # 0.1 s over 10
    await h.feed.stop()


async def test_pauses_while_nothing_is_subscribed(tmp_path: Path) -> None:
    h = Harness(tmp_path, speed=1.0)
    await h.feed.start()
    h.feed.subscribe(["AAPL"])
    await h.settle()
    await h.advance(0.25)
    assert len(h.frames) == 3
    h.feed.unsubscribe(["AAPL"])
    await h.advance(5.0)
    assert len(h.frames) == 3 and h.feed.state == "streaming"
    h.feed.subscribe(["AAPL"])
    await h.settle()
    assert len(h.frames) == 4  # on from where it was, the next quote at once
    assert json.loads(h.frames[-1].payload)["ts_upstream"] == START_US + 300_000
    await h.feed.stop()


async def test_speed_zero_goes_as_fast_as_clients_take_it(tmp_path: Path) -> None:
    backlogged = True
    h = Harness(tmp_path, ticks=1000, speed=0.0, ready=lambda: not backlogged)
    await h.feed.start()
    h.feed.subscribe(["AAPL", "MSFT"])
    await h.settle()
    assert h.frames == []  # a client is backlogged: nothing is sent to be conflated
    backlogged = False
    await h.advance(0.001)
    assert len(h.frames) == 2000 and h.feed.state == "idle"
    await h.feed.stop()


async def test_a_loop_moves_each_pass_a_day_later(tmp_path: Path) -> None:
    h = Harness(tmp_path, ticks=3, speed=0.0, loop=True)
    await h.feed.start()
    h.feed.subscribe(["AAPL"])
    await h.settle()
    h.feed.unsubscribe(["AAPL"])  # pauses the endless loop
    await h.settle()
    ts = [f.ts_upstream for f in h.frames]
    assert len(ts) >= 6 and ts == sorted(ts)
    day = 86_400_000_000
    assert ts[:6] == [
        START_US,
        START_US + 100_000,
        START_US + 200_000,
        START_US + day,
        START_US + day + 100_000,
        START_US + day + 200_000,
    ]
    assert h.feed.figures()["passes"] >= 1
    await h.feed.stop()
