"""server_speak's sources with fake connections and a fake sleep: what they hand on, what they
skip, and how they reconnect through the shared policy (no sockets, no real waiting)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from lib_common.core.backoff import Backoff
from lib_common.core.quote import Quote
from lib_common.core.reconnect import LinkState
from lib_common.errors import BusUnavailable
from lib_common.redis_bus.subscriber import BusMessage
from servers.server_speak.sources import RedisSource, RestreamSource

QUOTE = {"type": "quote", "symbol": "AAPL", "price": 201.5, "ts_upstream": 1, "ts_library_in": 2, "ts_library_out": 3}


class FakeSession:
    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.sent: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def __aiter__(self) -> AsyncIterator[str]:
        for frame in self.frames:
            yield frame


class Stop(BaseException):
    """Ends a run after the sleeps a test wants to see (a BaseException: the reconnect loop goes
    on after any Exception, as it must)."""


@pytest.mark.asyncio
async def test_restream_source_decodes_quotes_skips_the_rest_and_backs_off() -> None:
    sessions = [FakeSession([json.dumps({"type": "subscribed", "symbols": ["AAPL"]}), json.dumps(QUOTE), "{bad"])]
    attempts: list[str] = []

    @contextlib.asynccontextmanager
    async def connect(url: str) -> AsyncIterator[FakeSession]:
        attempts.append(url)
        if len(attempts) <= 2:
            raise OSError("connection refused")
        if not sessions:
            raise Stop
        yield sessions.pop(0)

    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    got: list[Quote] = []
    source = RestreamSource(
        "ws://x/ws", ["AAPL"], got.append, connect=connect, sleep=sleep, backoff=Backoff(1.0, 8.0, jitter=0.0)
    )
    session = sessions[0]
    with pytest.raises(Stop):
        await source.run()
    # two refusals (1 s, then 2 s), then a session that ended by itself (backoff reset: 1 s)
    assert sleeps == [1.0, 2.0, 1.0]
    assert json.loads(session.sent[0]) == {"op": "subscribe", "symbols": ["AAPL"]}
    assert [(q.symbol, q.price, q.ts_upstream, q.ts_library_in) for q in got] == [("AAPL", 201.5, 1, 2)]
    assert source.as_json() == {
        "connected": False,
        "connects": 1,
        "quotes": 1,
        "skipped": {"not_quote": 1, "not_json": 1},
        "last_error": "connection closed",
    }
    assert source.link.state is LinkState.IDLE and source.link.errors == 3


class FakePubSub:
    def __init__(self, messages: list[BusMessage]) -> None:
        self.messages = messages
        self.subscribed: list[str] = []

    async def subscribe(self, channels: list[str]) -> None:
        self.subscribed += channels

    async def unsubscribe(self, channels: list[str]) -> None: ...

    async def psubscribe(self, patterns: list[str]) -> None: ...

    async def punsubscribe(self, patterns: list[str]) -> None: ...

    async def next_messages(self) -> list[BusMessage]:
        if not self.messages:
            raise BusUnavailable("redis at redis://x: connection closed by the server")
        messages, self.messages = self.messages, []
        return messages

    async def close(self) -> None: ...


@pytest.mark.asyncio
async def test_redis_source_subscribes_decodes_and_reconnects() -> None:
    frame = json.dumps(QUOTE).encode()
    links = [FakePubSub([BusMessage("rsdev:quote:AAPL", frame), BusMessage("rsdev:quote:AAPL", b"[1]")])]
    sleeps: list[float] = []

    async def connect() -> FakePubSub:
        if not links:
            raise BusUnavailable("redis at redis://x: refused")
        return links[0] if len(sleeps) == 0 else links.pop()

    async def sleep(delay: float) -> None:
        sleeps.append(delay)
        if len(sleeps) == 3:
            raise asyncio.CancelledError

    got: list[Quote] = []
    link = links[0]
    source = RedisSource(connect, ["rsdev:quote:AAPL"], got.append, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await source.run()
    assert link.subscribed == ["rsdev:quote:AAPL", "rsdev:quote:AAPL"]  # again after the reconnect
    assert [q.price for q in got] == [201.5]
    figures = source.as_json()
    assert figures["quotes"] == 1 and figures["skipped"] == {"not_quote": 1} and figures["connects"] == 2
    assert len(sleeps) == 3 and source.link.state is LinkState.IDLE
