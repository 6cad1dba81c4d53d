"""The Yahoo streamer client: one WebSocket per shard of ≤100 symbols.

Thin I/O around plain parts: `ShardPlan` says which connection carries a symbol, `Backoff`
spaces reconnects, `normalise.decode_frame` turns frames into Quotes. Every drop — a clean
close, an abort, a failed handshake, or silence longer than the inactivity timeout — is
handled the same way: wait out the backoff, reconnect, resubscribe the shard's whole set.
Malformed frames are counted and logged, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from lib_common.clock import Clock
from lib_common.core.backoff import Backoff
from lib_common.core.upstream_policy import StreamStatus
from lib_common.ingestors.yahoo.normalise import FrameError, decode_frame
from lib_common.ingestors.yahoo.shards import ShardPlan

log = logging.getLogger(__name__)

T = TypeVar("T")

YAHOO_STREAMER_URL = "wss://streamer.finance.yahoo.com/?version=2"
# Browsers' header; Yahoo's edge is friendlier to it than to a library default.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@dataclass
class ShardHealth:
    since: float  # monotonic seconds: when this connection was first wanted
    down_at: float  # since when this connection is down (while not connected)
    connected: bool = False
    receiving: bool = False  # a frame arrived since the last (re)connect
    connected_at: float = 0.0
    last_message: float | None = None
    connects: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None


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
        self.inactivity_timeout_s = inactivity_timeout_s
        self._open_timeout_s = open_timeout_s
        self._plan = ShardPlan(per_connection)
        self._backoff = backoff
        self._on_change = on_change
        self._sockets: dict[int, ClientConnection] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.health: dict[int, ShardHealth] = {}
        self.frames = 0
        self.malformed: Counter[str] = Counter()
        self._running = False

    # UpstreamControl

    def subscribe(self, symbols: list[str]) -> None:
        for shard, added in self._plan.add(symbols).items():
            self._send(shard, {"subscribe": added})
            self._ensure(shard)

    def unsubscribe(self, symbols: list[str]) -> None:
        for shard, removed in self._plan.remove(symbols).items():
            self._send(shard, {"unsubscribe": removed})

    def accepts(self, symbol: str) -> bool:
        return True

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
            h = self.health.setdefault(index, ShardHealth(since=now, down_at=now))
            receiving = receiving and h.receiving
            # Silence runs from the last frame, across reconnects: a stalled upstream that
            # accepts every reconnect must not look fresh each time.
            heard = h.last_message if h.last_message is not None else h.since
            silence = max(silence or 0.0, now - heard)
            if not h.connected:
                connected = False
                down = max(down or 0.0, now - h.down_at)
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

    # Internals

    def _ensure(self, shard: int) -> None:
        if self._running and shard not in self._tasks and self._plan.symbols(shard):
            task = asyncio.get_running_loop().create_task(self._keep(shard), name=f"yahoo-shard-{shard}")
            self._tasks[shard] = task
            task.add_done_callback(lambda _: self._tasks.pop(shard, None))

    def _send(self, shard: int, message: dict[str, list[str]]) -> None:
        ws = self._sockets.get(shard)
        if ws is None:
            return  # not connected: the whole set goes out on (re)connect
        task = asyncio.get_running_loop().create_task(self._send_now(shard, ws, message))
        task.add_done_callback(_log_failure)

    async def _send_now(self, shard: int, ws: ClientConnection, message: dict[str, list[str]]) -> None:
        with contextlib.suppress(ConnectionClosed):  # the reconnect resubscribes everything
            await ws.send(json.dumps(message))

    async def _keep(self, shard: int) -> None:
        """Connect, subscribe, read; on any drop back off and start again, while symbols remain."""
        now = self._clock.monotonic()
        health = self.health[shard] = ShardHealth(since=now, down_at=now)
        backoff = self._backoff()
        while self._plan.symbols(shard):
            reason = await self._session(shard, health, backoff)
            health.connected = health.receiving = False
            health.down_at = self._clock.monotonic()
            health.drops[reason.split(":")[0]] += 1
            health.last_error = reason
            self._changed()
            if not self._plan.symbols(shard):
                break
            delay = backoff.next_delay()
            log.warning("yahoo shard %d: %s; reconnecting in %.1fs", shard, reason, delay)
            await asyncio.sleep(delay)

    async def _session(self, shard: int, health: ShardHealth, backoff: Backoff) -> str:
        try:
            async with connect(
                self.url,
                open_timeout=self._open_timeout_s,
                close_timeout=2,
                user_agent_header=USER_AGENT,
                max_size=1 << 20,
            ) as ws:
                self._sockets[shard] = ws
                health.connected = True
                health.connected_at = self._clock.monotonic()
                health.connects += 1
                await ws.send(json.dumps({"subscribe": self._plan.symbols(shard)}))
                self._changed()
                return await self._read(ws, health, backoff)
        except ConnectionClosed as exc:
            return f"closed: {exc}"
        except TimeoutError:
            return f"inactive: no frame for {self.inactivity_timeout_s}s"
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            return f"connect: {exc}"
        finally:
            self._sockets.pop(shard, None)

    async def _read(self, ws: ClientConnection, health: ShardHealth, backoff: Backoff) -> str:
        while True:
            async with asyncio.timeout(self.inactivity_timeout_s):
                message = await ws.recv()
            health.last_message = self._clock.monotonic()
            self._handle(message)
            if not health.receiving:
                health.receiving = True
                backoff.reset()  # data flows again: the next drop starts from the shortest delay
                self._changed()

    def _handle(self, message: str | bytes) -> None:
        try:
            item = self._decode(message, self._clock.now_us())
        except FrameError as exc:
            self.malformed[exc.kind] += 1
            if self.malformed[exc.kind] in (1, 10, 100) or self.malformed[exc.kind] % 1000 == 0:
                log.warning("yahoo: malformed frame (%s), %d so far", exc, self.malformed[exc.kind])
            return
        self.frames += 1
        self._sink([item])

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("yahoo: send failed: %s", task.exception())
