"""The websockets adapter against an in-process websockets server that closes, refuses and
goes silent on cue (the real servers: tests/servers/client)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from lib_common.client import Client, ClientEvent, ClientRefused, LinkState, StateChanged, stream
from lib_common.core.backoff import Backoff

pytestmark = pytest.mark.asyncio

Handler = Callable[[ServerConnection, int], Awaitable[None]]


def quote(symbol: str, ts: int, price: float = 1.0) -> str:
    return json.dumps({"type": "quote", "symbol": symbol, "price": price, "ts_upstream": ts})


class FakeServer:
    """Runs `handler(ws, n)` for the n-th connection (from 0); records what clients sent."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.received: list[list[Any]] = []
        self.headers: list[str | None] = []
        self.connected_at: list[float] = []
        self.server: Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = next(iter(self.server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws"

    async def _serve(self, ws: ServerConnection) -> None:
        n = self.connections
        self.connections += 1
        self.received.append([])
        self.connected_at.append(time.monotonic())
        reader = asyncio.ensure_future(self._read(ws, n))
        try:
            await self.handler(ws, n)
            await ws.wait_closed()
        finally:
            reader.cancel()

    async def _read(self, ws: ServerConnection, n: int) -> None:
        async for message in ws:
            self.received[n].append(json.loads(message))

    def _auth(self, ws: ServerConnection, request: Request) -> Response | None:
        header = request.headers.get("Authorization")
        self.headers.append(header)
        if header == "Bearer wrong":
            return ws.respond(HTTPStatus.UNAUTHORIZED, "invalid or missing token\n")
        return None


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[Callable[[Handler], Awaitable[FakeServer]]]:
    servers: list[Server] = []

    async def start(handler: Handler) -> FakeServer:
        fs = FakeServer(handler)
        fs.server = await serve(fs._serve, "127.0.0.1", 0, process_request=fs._auth)
        servers.append(fs.server)
        return fs

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def take(client: Client, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async for frame in client:
            out.append(frame)
            if len(out) == n:
                break
    return out


async def test_after_a_1012_it_reconnects_at_once_resubscribes_and_skips_the_snapshot_it_gave(
    fake: Callable[[Handler], Awaitable[FakeServer]],
) -> None:
    async def handler(ws: ServerConnection, n: int) -> None:
        if n == 0:
            await ws.send(quote("AAPL", 100))
            await until(lambda: len(server.received[0]) >= 2)  # the subscribe, then MSFT's
            await ws.close(1012, "service restart")
        else:
            await ws.send(quote("AAPL", 100))  # the new process's snapshot: already seen
            await ws.send(quote("AAPL", 99))  # older
            await ws.send(quote("AAPL", 101))

    server = await fake(handler)
    events: list[ClientEvent] = []
    # A backoff of 5 s: only the 1012 rule can bring it back within the test's second.
    async with Client(server.url, ["AAPL"], on_event=events.append, backoff=Backoff(base_s=5, cap_s=5)) as client:
        first = await take(client, 1)
        await client.subscribe(["MSFT"])
        second = await take(client, 1, timeout=1.0)
    assert [(q["symbol"], q["ts_upstream"]) for q in first + second] == [("AAPL", 100), ("AAPL", 101)]
    assert server.received[0] == [
        {"op": "subscribe", "symbols": ["AAPL"]},
        {"op": "subscribe", "symbols": ["MSFT"]},
    ]
    assert server.received[1][0] == {"op": "subscribe", "symbols": ["AAPL", "MSFT"]}
    assert server.connected_at[1] - server.connected_at[0] < 1.0
    lost = [e for e in events if isinstance(e, StateChanged) and e.close_code is not None]
    assert [(e.close_code, e.retry_in_s) for e in lost] == [(1012, 0.0)]
    assert client.state is LinkState.IDLE


async def test_the_token_goes_in_the_authorization_header_and_a_401_ends_the_iteration(
    fake: Callable[[Handler], Awaitable[FakeServer]],
) -> None:
    async def handler(ws: ServerConnection, n: int) -> None:
        await ws.send(quote("AAPL", 1))

    server = await fake(handler)
    async with Client(server.url, ["AAPL"], token="good") as client:
        assert len(await take(client, 1)) == 1
    async with Client(server.url, ["AAPL"], token="wrong") as client:
        with pytest.raises(ClientRefused) as info:
            await take(client, 1)
        assert info.value.status == 401 and client.state is LinkState.IDLE
    assert server.headers == ["Bearer good", "Bearer wrong"]
    assert server.connections == 1  # no retry after the 401


async def test_a_silent_connection_is_pinged_then_dropped_for_a_new_one(
    fake: Callable[[Handler], Awaitable[FakeServer]],
) -> None:
    async def handler(ws: ServerConnection, n: int) -> None:
        if n == 0:
            await ws.send(quote("AAPL", 1))
            ws.transport.pause_reading()  # frozen: no pong, nothing sent
            await until(lambda: server.connections > 1)
            ws.transport.abort()
        else:
            await ws.send(quote("AAPL", 2))

    server = await fake(handler)
    events: list[ClientEvent] = []
    async with Client(server.url, ["AAPL"], heartbeat_s=0.1, timeout_s=0.3, on_event=events.append) as client:
        got = await take(client, 2)
    assert [q["ts_upstream"] for q in got] == [1, 2]
    reasons = [e.reason for e in events if isinstance(e, StateChanged) and e.state is LinkState.BACKOFF]
    assert len(reasons) == 1 and reasons[0].startswith("silent for 0.3")


async def test_a_quiet_server_that_answers_pings_is_kept(fake: Callable[[Handler], Awaitable[FakeServer]]) -> None:
    async def handler(ws: ServerConnection, n: int) -> None:
        await asyncio.sleep(0.8)  # quiet longer than the timeout, pongs flowing
        await ws.send(quote("AAPL", 1))

    server = await fake(handler)
    async with Client(server.url, ["AAPL"], heartbeat_s=0.1, timeout_s=0.3) as client:
        assert len(await take(client, 1)) == 1
    assert server.connections == 1


async def test_no_server_is_backoff_not_an_exception_and_close_ends_the_iteration() -> None:
    events: list[ClientEvent] = []
    client = Client("ws://127.0.0.1:9/ws", ["AAPL"], on_event=events.append, backoff=Backoff(0.01, 0.05))
    async with client:
        reader = asyncio.ensure_future(take(client, 1))
        await until(lambda: client.figures()["errors"] >= 3)
        assert not reader.done()
    assert await reader == []
    assert client.state is LinkState.IDLE
    assert {e.state for e in events if isinstance(e, StateChanged)} == {
        LinkState.CONNECTING,
        LinkState.BACKOFF,
        LinkState.IDLE,
    }


async def test_iterating_outside_async_with_says_so() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await Client("ws://127.0.0.1:9/ws").__anext__()


async def test_options_that_do_not_fit_the_server_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="restream takes symbols"):
        Client("ws://h/ws", ["A"], channels=["c"], protocol="restream")
    with pytest.raises(ValueError, match="not symbols"):
        Client("ws://h/ws", ["A"], channels=["c"])
    with pytest.raises(ValueError, match="ws:// or wss://"):
        Client("http://h/ws")
    with pytest.raises(ValueError, match="heartbeat_s < timeout_s"):
        Client("ws://h/ws", heartbeat_s=10, timeout_s=5)


async def test_stream_is_a_plain_iterator_on_its_own_thread(fake: Callable[[Handler], Awaitable[FakeServer]]) -> None:
    async def handler(ws: ServerConnection, n: int) -> None:
        await ws.send(quote("AAPL", 1))
        await until(lambda: len(server.received[0]) >= 2)
        await ws.send(quote("MSFT", 1))

    server = await fake(handler)

    def script() -> list[str]:
        with stream(server.url, ["AAPL"]) as quotes:
            got = [next(quotes)["symbol"]]
            quotes.subscribe(["MSFT"])
            got.append(next(quotes)["symbol"])
            assert quotes.state is LinkState.CONNECTED
        assert list(quotes) == []  # closed: the iteration is over
        return got

    assert await asyncio.wait_for(asyncio.to_thread(script), 10) == ["AAPL", "MSFT"]
