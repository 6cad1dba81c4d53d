"""`Client`: the websockets adapter around `ClientPolicy`, and the only I/O in the package.

Two coroutines share one connection at a time:

- the keeper (a task started by `async with`): connects, sends what the policy says, watches
  the connection (its close, and its silence: pings when the policy says, drops it when the
  policy says it is dead), then waits what the policy says and connects again, until closed;
- the reader (the user's `async for`): reads the current connection, hands each frame to the
  policy, returns the ones it passes; when a connection ends it drains what the server had
  sent, then goes on with the next one. It never sees a reconnect, only a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_module
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from lib_common.client.events import ClientEvent
from lib_common.client.liveness import Liveness
from lib_common.client.policy import ClientPolicy, Frame
from lib_common.client.subscriptions import DIALECTS, REDIS2WS, RESTREAM
from lib_common.clock import Clock, LoopClock, sleep
from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState
from lib_common.errors import ClientRefused

log = logging.getLogger(__name__)

# What a failed connection attempt may raise (besides a refused handshake).
CONNECT_ERRORS = (OSError, TimeoutError, InvalidHandshake, ConnectionClosed)


class Client:
    """A restream (symbols) or redis2ws (channels, patterns) client that reconnects by itself.

        async with Client("ws://127.0.0.1:8765/ws", symbols=["AAPL"]) as client:
            await client.subscribe(["MSFT"])
            async for quote in client:
                ...

    See docs/client.md for the guarantees, the states and every option.
    """

    def __init__(
        self,
        url: str,
        symbols: Iterable[str] = (),
        *,
        channels: Iterable[str] = (),
        patterns: Iterable[str] = (),
        protocol: str | None = None,
        token: str | None = None,
        on_event: Callable[[ClientEvent], None] | None = None,
        heartbeat_s: float = 5.0,
        timeout_s: float = 10.0,
        open_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        max_per_message: int = 100,
        headers: dict[str, str] | None = None,
        ssl: ssl_module.SSLContext | None = None,
        max_size: int | None = 1 << 20,
        clock: Clock | None = None,
    ) -> None:
        symbols, channels, patterns = list(symbols), list(channels), list(patterns)
        if protocol is None:
            protocol = REDIS2WS.name if channels or patterns else RESTREAM.name
        dialect = DIALECTS.get(protocol)
        if dialect is None:
            raise ValueError(f"protocol must be one of {', '.join(DIALECTS)}, not {protocol!r}")
        if dialect is RESTREAM and (channels or patterns):
            raise ValueError("channels and patterns are redis2ws's; restream takes symbols")
        if dialect is REDIS2WS and symbols:
            raise ValueError("redis2ws takes channels and patterns, not symbols")
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError(f"expected a ws:// or wss:// URL, got {url!r}")
        Liveness.validate(heartbeat_s, timeout_s)
        self.url = url
        self._clock = clock or LoopClock()
        # The name in logs and events: the address without its query (a ?token= stays out).
        name = "client " + urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.policy = ClientPolicy(
            name,
            dialect=dialect,
            monotonic=self._clock.monotonic,
            backoff=backoff,
            on_event=on_event,
            max_per_message=max_per_message,
        )
        for key, names in (("symbols", symbols), ("channels", channels), ("patterns", patterns)):
            if names:
                self.policy.subscribe(names, key)
        self._headers = dict(headers or {})
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._heartbeat_s = heartbeat_s
        self._timeout_s = timeout_s
        self._open_timeout_s = open_timeout_s
        self._ssl = ssl
        self._max_size = max_size
        self._ws: ClientConnection | None = None  # the keeper's current connection
        self._generation = 0  # counts connections, so the reader knows a new one
        self._read: ClientConnection | None = None  # the reader's connection
        self._read_generation = 0  # and its number
        self._frames = 0  # frames the reader has taken (the liveness check's sign of life)
        self._wake = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._fatal: Exception | None = None  # what ends the iteration: a refusal, a bug
        self._closed = False

    # The state, as the user reads it

    @property
    def state(self) -> LinkState:
        """idle (not started, closed or refused), connecting, connected or backoff."""
        return self.policy.state

    @property
    def upstream(self) -> str | None:
        """The server's upstream state from its last status frame on this connection, or None."""
        return self.policy.upstream

    def figures(self) -> dict[str, object]:
        return self.policy.figures()

    # Subscriptions, at any time: remembered, sent now when connected, again after a reconnect

    async def subscribe(self, names: Iterable[str]) -> None:
        """restream: symbols; redis2ws: channels."""
        await self._send(self.policy.subscribe(list(names)))

    async def unsubscribe(self, names: Iterable[str]) -> None:
        await self._send(self.policy.unsubscribe(list(names)))

    async def psubscribe(self, patterns: Iterable[str]) -> None:
        """redis2ws only: channel patterns (Redis PSUBSCRIBE)."""
        await self._send(self.policy.subscribe(list(patterns), "patterns"))

    async def punsubscribe(self, patterns: Iterable[str]) -> None:
        await self._send(self.policy.unsubscribe(list(patterns), "patterns"))

    # Lifecycle

    async def __aenter__(self) -> Client:
        self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def start(self) -> None:
        """Start connecting (in the background); `async with` does it."""
        if self._keeper is None and not self._closed:
            self._keeper = asyncio.get_running_loop().create_task(self._keep(), name=self.policy.name)

    async def close(self) -> None:
        """Close the connection (1000) and end the iteration."""
        self._closed = True
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        self._signal()

    # The reader

    def __aiter__(self) -> Client:
        return self

    async def __anext__(self) -> Frame:
        policy = self.policy
        while True:
            read = self._read
            if read is None:
                read = self._read = await self._next_connection()
            try:
                text = await read.recv()
            except ConnectionClosed:
                self._read = None  # drained: on to the next connection
                continue
            self._frames += 1
            frame = policy.receive(text)
            if frame is not None:
                return frame

    async def _next_connection(self) -> ClientConnection:
        """The keeper's connection once there is one the reader has not read yet."""
        while True:
            if self._fatal is not None:
                raise self._fatal
            if self._closed:
                raise StopAsyncIteration
            if self._keeper is None:
                raise RuntimeError("iterate inside `async with Client(...)` (or after start())")
            ws = self._ws
            if ws is not None and self._generation != self._read_generation:
                self._read_generation = self._generation
                return ws
            await self._wake.wait()

    def _signal(self) -> None:
        """Wake the reader waiting for a connection (a new one, or the end)."""
        self._wake.set()
        self._wake = asyncio.Event()

    # The keeper

    async def _keep(self) -> None:
        policy = self.policy
        try:
            while True:
                policy.connecting()
                delay = await self._session()
                if delay is None:
                    return
                await sleep(self._clock, delay)
        except Exception as exc:  # a bug, not an outage: the iteration raises it
            log.exception("%s: stopped", policy.name)
            self._fatal = exc
        finally:
            policy.stopped()
            self._signal()

    async def _session(self) -> float | None:
        """One connection from its handshake to its end; how long to wait before the next (None:
        refused for good)."""
        policy = self.policy
        try:
            ws = await connect(
                self.url,
                additional_headers=self._headers,
                open_timeout=self._open_timeout_s,
                ping_interval=None,  # the liveness policy pings
                close_timeout=2,
                max_size=self._max_size,
                ssl=self._ssl,
                proxy=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            delay = policy.refused(status, f"HTTP {status} on the handshake")
            if delay is None:
                self._fatal = ClientRefused(status, f"{policy.name}: the server answered HTTP {status}")
            return delay
        except CONNECT_ERRORS as exc:
            return policy.failed(exc)
        try:
            # No await between the policy's answer and the reader's view of the connection, so
            # a subscribe() from the user lands in one or the other, never between.
            messages = policy.connected()
            self._ws = ws
            self._generation += 1
            self._signal()
            for message in messages:
                await ws.send(message)
            return await self._watch(ws)
        except ConnectionClosed:
            return self._lost(ws)
        except asyncio.CancelledError:  # the client is closing
            await ws.close()
            raise
        finally:
            self._ws = None

    async def _watch(self, ws: ClientConnection) -> float:
        """Wait for the connection's end, pinging and dropping it as the liveness policy says."""
        clock = self._clock
        liveness = Liveness(heartbeat_s=self._heartbeat_s, timeout_s=self._timeout_s, now=clock.monotonic())
        closed = asyncio.ensure_future(ws.wait_closed())
        try:
            while True:
                check = liveness.check(clock.monotonic(), self._frames, _backlog(ws))
                if check.dead:
                    log.info("%s: silent for %.1f s, dropping the connection", self.policy.name, check.silence_s)
                    ws.transport.abort()
                    return self.policy.stalled(check.silence_s)
                if check.ping:
                    pong = asyncio.ensure_future(await ws.ping())  # websockets' own future
                    pong.add_done_callback(lambda f: _ponged(f, liveness, clock))
                if await _within(closed, check.next_in_s, clock):
                    return self._lost(ws)
        finally:
            closed.cancel()

    def _lost(self, ws: ClientConnection) -> float:
        return self.policy.lost(ws.close_code, ws.close_reason or "")

    async def _send(self, messages: list[str]) -> None:
        ws = self._ws
        if ws is None:
            return  # remembered: the next connection asks for it
        for message in messages:
            try:
                await ws.send(message)
            except ConnectionClosed:
                return  # the reconnect asks for everything


def _backlog(ws: ClientConnection) -> bool:
    """Frames received that the user has not read yet (websockets' receive buffer)."""
    return bool(ws.recv_messages.frames)


def _ponged(pong: asyncio.Future[float], liveness: Liveness, clock: Clock) -> None:
    if not pong.cancelled() and pong.exception() is None:
        liveness.heard(clock.monotonic())


async def _within(future: asyncio.Future[Any], delay: float, clock: Clock) -> bool:
    """True when `future` is done within `delay` seconds of `clock`."""
    if future.done():
        return True
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = clock.call_later(delay, wake)
    future.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        future.remove_done_callback(wake)
    return future.done()
