"""YahooStreamer against a small in-test server that speaks Yahoo's protocol."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.server import Server, ServerConnection, serve
from yfinance import pricing_pb2  # type: ignore[import-untyped]

from lib_common.clock import LoopClock
from lib_common.core.backoff import Backoff
from lib_common.core.quote import Quote
from lib_common.ingestors.yahoo.normalise import decode_frame
from lib_common.ingestors.yahoo.streamer import YahooStreamer

pytestmark = pytest.mark.asyncio


def pricing(symbol: str, time_ms: int, price: float = 1.5) -> str:
    data = pricing_pb2.PricingData(id=symbol, time=time_ms, price=price).SerializeToString()
    return json.dumps({"type": "pricing", "message": base64.b64encode(data).decode()})


class FakeYahoo:
    """Records what clients ask for; the test drives what they receive."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections: list[ServerConnection] = []
        self.server: Server | None = None

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        async for message in ws:
            self.requests.append(json.loads(message))

    @property
    def url(self) -> str:
        assert self.server is not None
        port = next(iter(self.server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/?version=2"

    def live(self) -> list[ServerConnection]:
        return [ws for ws in self.connections if ws.state.name == "OPEN"]

    async def broadcast(self, frame: str) -> None:
        for ws in self.live():
            await ws.send(frame)


@pytest_asyncio.fixture
async def yahoo() -> AsyncIterator[FakeYahoo]:
    fake = FakeYahoo()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        fake.server = server
        yield fake


def fast_backoff() -> Backoff:
    return Backoff(base_s=0.05, cap_s=0.2)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def streamer(yahoo: FakeYahoo, sink: list[Quote], **kwargs: Any) -> YahooStreamer:
    return YahooStreamer(sink.extend, clock=LoopClock(), url=yahoo.url, backoff=fast_backoff, **kwargs)


async def test_subscribes_and_delivers_quotes(yahoo: FakeYahoo) -> None:
    quotes: list[Quote] = []
    s = streamer(yahoo, quotes)
    await s.start()
    s.subscribe(["AAPL", "MSFT"])
    await until(lambda: {"subscribe": ["AAPL", "MSFT"]} in yahoo.requests)
    await yahoo.broadcast(pricing("AAPL", 1_000))
    await until(lambda: len(quotes) == 1)
    assert quotes[0].symbol == "AAPL" and quotes[0].ts_upstream == 1_000_000
    status = s.status()
    assert status.connected and status.silence_s is not None and status.silence_s < 1 and status.down_s is None
    await s.stop()


async def test_unsubscribe_goes_out_on_the_live_connection(yahoo: FakeYahoo) -> None:
    s = streamer(yahoo, [])
    await s.start()
    s.subscribe(["AAPL", "MSFT"])
    await until(lambda: len(yahoo.requests) == 1)
    s.unsubscribe(["MSFT"])
    await until(lambda: {"unsubscribe": ["MSFT"]} in yahoo.requests)
    assert len(yahoo.connections) == 1
    await s.stop()


async def test_shards_above_the_per_connection_limit(yahoo: FakeYahoo) -> None:
    s = streamer(yahoo, [], per_connection=2)
    await s.start()
    s.subscribe(["A", "B", "C", "D", "E"])
    await until(lambda: len(yahoo.requests) == 3)
    sets = sorted(tuple(r["subscribe"]) for r in yahoo.requests)
    assert sets == [("A", "B"), ("C", "D"), ("E",)]
    assert len(yahoo.live()) == 3
    await s.stop()


@pytest.mark.parametrize("drop", ["clean", "abort"])
async def test_reconnects_and_resubscribes_everything_after_any_drop(yahoo: FakeYahoo, drop: str) -> None:
    quotes: list[Quote] = []
    s = streamer(yahoo, quotes)
    await s.start()
    s.subscribe(["AAPL", "MSFT"])
    await until(lambda: len(yahoo.live()) == 1)
    (ws,) = yahoo.live()
    if drop == "clean":
        await ws.close(1000)
    else:
        ws.transport.abort()
    await until(lambda: len(yahoo.connections) == 2 and len(yahoo.requests) == 2)
    assert yahoo.requests[-1] == {"subscribe": ["AAPL", "MSFT"]}
    await yahoo.broadcast(pricing("MSFT", 2_000))
    await until(lambda: len(quotes) == 1)
    assert sum(h.connects for h in s.health.values()) == 2
    await s.stop()


async def test_silence_past_the_inactivity_timeout_reconnects(yahoo: FakeYahoo) -> None:
    s = streamer(yahoo, [], inactivity_timeout_s=0.3)
    await s.start()
    s.subscribe(["AAPL"])
    await until(lambda: len(yahoo.connections) >= 2, timeout=5)
    (health,) = s.health.values()
    assert health.drops["inactive"] >= 1
    await s.stop()


async def test_malformed_frames_are_counted_and_the_rest_delivered(yahoo: FakeYahoo) -> None:
    quotes: list[Quote] = []
    s = streamer(yahoo, quotes)
    await s.start()
    s.subscribe(["AAPL"])
    await until(lambda: len(yahoo.live()) == 1)
    for frame in ["garbage", '{"type": "pricing", "message": "@@@"}', pricing("AAPL", 5), '{"type":"pricing"}']:
        await yahoo.broadcast(frame)
    await yahoo.broadcast(pricing("AAPL", 6))
    await until(lambda: len(quotes) == 2)
    assert s.malformed == {"bad_base64": 2, "bad_envelope": 1}
    assert len(yahoo.connections) == 1, "malformed frames are not a reason to reconnect"
    await s.stop()


async def test_unreachable_upstream_keeps_retrying_without_raising() -> None:
    s = YahooStreamer(lambda q: None, clock=LoopClock(), url="ws://127.0.0.1:9/", backoff=fast_backoff)
    await s.start()
    s.subscribe(["AAPL"])
    await until(lambda: sum(h.drops["connect"] for h in s.health.values()) >= 3)
    status = s.status()
    assert not status.connected and status.down_s is not None and status.down_s > 0
    await s.stop()


async def test_any_broken_frame_is_counted_and_skipped_and_the_stream_keeps_delivering(yahoo: FakeYahoo) -> None:
    """Regression: a binary frame that is not UTF-8, JSON nested past the recursion limit, a NaN
    price, a decoder that raises something other than FrameError and a sink that raises each
    used to end the shard's task for good (no reconnect, no more quotes)."""
    quotes: list[Quote] = []
    broken_sink = [True]

    def sink(items: list[Quote]) -> None:
        if items[0].ts_upstream == 7_000 and broken_sink[0]:
            broken_sink[0] = False
            raise ValueError("out of range float values are not JSON compliant")
        quotes.extend(items)

    def decode(frame: str | bytes, ts: int) -> Quote:
        if frame == "raise-type-error":
            raise TypeError("a decoder bug")
        return decode_frame(frame, ts)

    s = YahooStreamer(sink, clock=LoopClock(), url=yahoo.url, backoff=fast_backoff, decode=decode)
    await s.start()
    s.subscribe(["AAPL"])
    await until(lambda: len(yahoo.live()) == 1)
    (ws,) = yahoo.live()
    await ws.send(b"\xff\xfe\x00binary")
    await ws.send('{"message": ' + "[" * 100_000 + "]" * 100_000 + "}")
    await ws.send(pricing("AAPL", 5, price=float("nan")))
    await ws.send(pricing("AAPL", 6, price=float("inf")))
    await ws.send("raise-type-error")
    await ws.send(pricing("AAPL", 7))  # the sink raises on this one
    await ws.send(pricing("AAPL", 8))
    await until(lambda: len(quotes) == 1)
    assert [q.ts_upstream for q in quotes] == [8_000]
    assert s.malformed == {"not_utf8": 1, "bad_json": 1, "not_finite": 2, "TypeError": 1}
    assert s.sink_errors == 1
    assert len(yahoo.connections) == 1 and s.status().connected, "a broken frame is no reason to reconnect"
    await s.stop()
