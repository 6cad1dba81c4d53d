"""The Yahoo streamer client: one WebSocket per shard of ≤100 symbols.

A thin websockets adapter around plain parts: `ShardPlan` says which connection carries a
symbol, `ShardPolicy` decides what each connection does next (connect, resubscribe, drop a
silent connection, wait out the backoff), `normalise.decode_frame` turns frames into Quotes.
This module only moves bytes between the socket and those parts, and sleeps where the policy
says. Every drop — a clean close, an abort, a failed handshake, or silence longer than the
inactivity timeout — goes the same way: back off, reconnect, resubscribe the shard's whole set.
A frame that cannot be handled (malformed, not UTF-8, nested too deep, an out-of-range value)
is counted, logged at a falling rate and skipped: never the end of the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from lib_common.clock import Clock
from lib_common.core.backoff import Backoff
from lib_common.core.upstream_policy import StreamStatus
from lib_common.ingestors.yahoo.normalise import FrameError, decode_frame
from lib_common.ingestors.yahoo.shard_policy import Connect, Decision, ReconnectAfter, ShardPolicy, Stop
from lib_common.ingestors.yahoo.shards import ShardPlan
from lib_common.ky_http import BROWSER_USER_AGENT

log = logging.getLogger(__name__)

T = TypeVar("T")

YAHOO_STREAMER_URL = "wss://streamer.finance.yahoo.com/?version=2"


def _often(n: int) -> bool:
    """Log the 1st, 10th, 100th and every 1000th occurrence: a flood costs a few lines."""
    return n in (1, 10, 100) or n % 1000 == 0


class YahooStreamer(Generic[T]):
    """Keeps the subscribed symbols streaming; pushes each decoded frame into `sink`.

    `decode` turns a frame into what the sink wants (a Quote by default; server_yahoo keeps the
    frame as it came) and raises FrameError on a bad one.
    """

    def __init__(
        self,
        sink: Callable[[list[T]], None],
        *,
        clock: Clock,
        decode: Callable[[str | bytes, int], T] = decode_frame,  # type: ignore[assignment]
        url: str = YAHOO_STREAMER_URL,
        per_connection: int = 100,
        inactivity_timeout_s: float | None = 30.0,
        open_timeout_s: float = 10.0,
        backoff: Callable[[], Backoff] = Backoff,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._sink = sink
        self._decode = decode
        self._clock = clock
        self.url = url
        self._inactivity_timeout_s = inactivity_timeout_s
        self._open_timeout_s = open_timeout_s
        self._plan = ShardPlan(per_connection)
        self._backoff = backoff
        self._on_change = on_change
        self._sockets: dict[int, ClientConnection] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.health: dict[int, ShardPolicy] = {}
        self.frames = 0
        self.malformed: Counter[str] = Counter()
        self.sink_errors = 0
        self._running = False

    @property
    def inactivity_timeout_s(self) -> float | None:
        return self._inactivity_timeout_s

    @inactivity_timeout_s.setter
    def inactivity_timeout_s(self, value: float | None) -> None:
        # The upstream manager lifts it outside market hours; every shard follows.
        self._inactivity_timeout_s = value
        for policy in self.health.values():
            policy.inactivity_s = value

    # What the registry asks

    def subscribe(self, symbols: list[str]) -> None:
        for shard, added in self._plan.add(symbols).items():
            self._send(shard, {"subscribe": added})
            self._ensure(shard)

    def unsubscribe(self, symbols: list[str]) -> None:
        for shard, removed in self._plan.remove(symbols).items():
            self._send(shard, {"unsubscribe": removed})

    @property
    def symbols(self) -> int:
        return len(self._plan)

    # Health, as the upstream manager reads it

    def status(self) -> StreamStatus:
        """Connected, silence and downtime over every connection that carries symbols."""
        now = self._clock.monotonic()
        connected = receiving = True
        silence: float | None = None
        down: float | None = None
        busy = [i for i in range(self._plan.shards) if self._plan.symbols(i)]
        for index in busy:
            policy = self._policy(index)
            receiving = receiving and policy.receiving
            silence = max(silence or 0.0, now - policy.heard_at())
            if not policy.connected:
                connected = False
                down = max(down or 0.0, now - policy.down_at)
        up = connected and bool(busy)
        return StreamStatus(connected=up, receiving=up and receiving, silence_s=silence, down_s=down)

    # Lifecycle

    async def start(self) -> None:
        self._running = True
        for shard in range(self._plan.shards):
            self._ensure(shard)

    async def stop(self) -> None:
        self._running = False
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # The adapter: run each shard's policy against a real socket

    def _policy(self, shard: int) -> ShardPolicy:
        policy = self.health.get(shard)
        if policy is None:
            policy = self.health[shard] = ShardPolicy(
                shard,
                lambda: self._plan.symbols(shard),
                monotonic=self._clock.monotonic,
                inactivity_s=self._inactivity_timeout_s,
                backoff=self._backoff(),
                on_change=self._on_change,
            )
        return policy

    def _ensure(self, shard: int) -> None:
        if self._running and shard not in self._tasks and self._plan.symbols(shard):
            task = asyncio.get_running_loop().create_task(self._keep(shard), name=f"yahoo-shard-{shard}")
            self._tasks[shard] = task
            task.add_done_callback(lambda _: self._tasks.pop(shard, None))

    def _send(self, shard: int, message: dict[str, list[str]]) -> None:
        ws = self._sockets.get(shard)
        if ws is None:
            return  # not connected: the whole set goes out on (re)connect
        task = asyncio.get_running_loop().create_task(self._send_now(ws, message))
        task.add_done_callback(_log_failure)

    async def _send_now(self, ws: ClientConnection, message: dict[str, list[str]]) -> None:
        with contextlib.suppress(ConnectionClosed):  # the reconnect resubscribes everything
            await ws.send(json.dumps(message))

    async def _keep(self, shard: int) -> None:
        """Do what the shard's policy says until it says stop."""
        policy = self._policy(shard)
        decision: Decision = policy.start()
        try:
            while not isinstance(decision, Stop):
                if isinstance(decision, ReconnectAfter):
                    await asyncio.sleep(decision.delay_s)
                    decision = policy.waited()
                elif isinstance(decision, Connect):
                    decision = await self._session(shard, policy)
                else:  # pragma: no cover - the policy answers a connect only from _session
                    raise RuntimeError(f"yahoo shard {shard}: unexpected {decision!r}")
        finally:
            if not isinstance(decision, Stop):
                policy.stopped()

    async def _session(self, shard: int, policy: ShardPolicy) -> Decision:
        """One connection, from the handshake to its drop; returns what the policy says next."""
        try:
            ws = await connect(
                self.url,
                open_timeout=self._open_timeout_s,
                close_timeout=2,
                user_agent_header=BROWSER_USER_AGENT,
                max_size=1 << 20,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return policy.connect_failed(exc)
        self._sockets[shard] = ws
        try:
            async with ws:
                subscribe = policy.connect_succeeded()
                await ws.send(json.dumps({"subscribe": list(subscribe.symbols)}))
                reason = await self._read(ws, policy)
        except ConnectionClosed as exc:
            reason = f"closed: {exc}"
        finally:
            self._sockets.pop(shard, None)
        return policy.closed(reason)

    async def _read(self, ws: ClientConnection, policy: ShardPolicy) -> str:
        """Frames into the sink until the connection closes or the policy drops it for silence."""
        while True:
            deadline = policy.deadline()
            timeout = None if deadline is None else max(0.0, deadline - self._clock.monotonic())
            try:
                async with asyncio.timeout(timeout):
                    message = await ws.recv()
            except TimeoutError:
                drop = policy.deadline_reached()
                if drop is not None:
                    return drop.reason
                continue
            policy.frame()
            self._handle(message)

    def _handle(self, message: str | bytes) -> None:
        """Decode one frame and hand it on; whatever goes wrong with it costs that frame only."""
        try:
            item = self._decode(message, self._clock.now_us())
        except FrameError as exc:
            self._malformed(exc.kind, str(exc))
            return
        except (ValueError, TypeError, RecursionError, MemoryError) as exc:
            # Not a FrameError: a decoder that let through a binary frame's UnicodeDecodeError,
            # a JSON nested past the recursion limit, a NaN where a number was wanted.
            self._malformed(type(exc).__name__, f"{type(exc).__name__}: {exc}")
            return
        self.frames += 1
        try:
            self._sink([item])
        except Exception:
            self.sink_errors += 1
            if _often(self.sink_errors):
                log.exception("yahoo: the sink failed on a frame, %d so far", self.sink_errors)

    def _malformed(self, kind: str, what: str) -> None:
        self.malformed[kind] += 1
        if _often(self.malformed[kind]):
            log.warning("yahoo: malformed frame skipped (%s), %d of this kind so far", what, self.malformed[kind])


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("yahoo: send failed: %s", task.exception())
