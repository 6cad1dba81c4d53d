"""The Redis side of a durable consumer: one consumer group, batches handed to a sink, XACK
only after the sink made them durable.

    connect (Redis, the group, the sink) ─▶ claim idle entries of other consumers
        ─▶ re-read own pending entries ─▶ read new ones ─┐
                 ▲                                       │ any failure: close both, back off,
                 └───────────────────────────────────────┘ and start again from the PEL

An entry is acked only after the sink returned from `write` for the batch holding it, so a
crash or an outage at any point leaves it pending, and it is delivered again: the sink makes
the redelivery harmless (a unique key in PostgreSQL, the file's last ids for the logs). A
batch keeps its writer slot until it is acked, and once a write or an ack failed no batch is
written until the reconnect, so at most `writers` batches are durable and unacked at any time:
the last ones written.

A stream spread over shards (a Redis Cluster URL with `stream_shards=N`) is read by one such
loop per shard, each with the group and the PEL of its own key and its own cursor, into the
one sink (at most `writers` batches in it, or written and not acked, at once, whichever shards
they come from); a failure on any shard starts them all again from their PELs.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from lib_common.alerts import link_hook
from lib_common.clock import Clock, LoopClock
from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState, Reconnect
from lib_common.errors import BusError, BusReplyError
from lib_common.metrics import Exposition
from lib_common.redis_bus.stream import NOGROUP, GroupFigures, RawEntry, StreamEntry, StreamGroup, parse_entries
from servers.durable.config import ConsumerConfig
from servers.durable.errors import ConsumerError, SourceUnavailable
from servers.durable.policy import LagMonitor, RateMeter, ReadCursor

log = logging.getLogger(__name__)

T = TypeVar("T")

LAG_INTERVAL_S = 1.0
REPORT_INTERVAL_S = 10.0


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int  # rows or lines that are new
    duplicates: int = 0  # redelivered entries the sink already held
    malformed: int = 0  # entries whose frame was not a quote


class Sink(Protocol):
    """Where a batch goes; `write` returns only once the batch is durable (committed, fsynced).
    `writers`: how many `write` calls may run at once (1: batches in stream order)."""

    writers: int

    async def open(self) -> None: ...

    async def write(self, entries: list[StreamEntry], redelivered: bool) -> WriteResult: ...

    async def maintain(self) -> None:
        """Periodic work between reads (rotation for files)."""
        ...

    async def close(self) -> None: ...

    def expose(self, out: Exposition, prefix: str) -> None: ...

    def status(self) -> dict[str, object]: ...


class Group(Protocol):
    """The consumer-group commands the consumer uses (`lib_common.redis_bus.stream.StreamGroup`);
    each raises a BusError when Redis fails or refuses."""

    async def ping(self) -> None: ...

    async def ensure_group(self) -> bool: ...

    async def claim_idle(self, min_idle_ms: int, count: int) -> int: ...

    async def read(self, after: str, count: int, block_ms: int | None) -> list[RawEntry]: ...

    async def ack(self, ids: list[bytes]) -> None: ...

    async def figures(self) -> GroupFigures | None: ...

    async def close(self) -> None: ...


class State(enum.Enum):
    CONNECTING = "connecting"
    RUNNING = "running"
    BACKING_OFF = "backing_off"
    STOPPED = "stopped"


_STATES = {
    LinkState.CONNECTING: State.CONNECTING,
    LinkState.CONNECTED: State.RUNNING,
    LinkState.BACKOFF: State.BACKING_OFF,
}


class _GroupMissing(ConsumerError):
    """NOGROUP: Redis lost the stream or the group (a restart without persistence)."""


class _Halted(ConsumerError):
    """A batch left unwritten because an earlier write or ack failed (that one is reported)."""


def stream_group(config: ConsumerConfig, stream: str) -> StreamGroup:
    """The bus's consumer-group client for `config` on `stream` (one of `config.streams`); a read
    may block max_wait_ms, so every call gets that long and 10 s more."""
    return StreamGroup(
        config.redis_url or "",
        stream,
        config.group,
        config.consumer_name,
        timeout_s=config.max_wait_ms / 1000 + 10,
    )


class _Shard:
    """One stream key's group and read cursor; `index` is None for an unsharded stream."""

    def __init__(self, index: int | None, stream: str, group: Group) -> None:
        self.index = index
        self.stream = stream
        self.group = group
        self.cursor = ReadCursor()


class DurableConsumer:
    def __init__(
        self,
        config: ConsumerConfig,
        sink: Sink,
        *,
        name: str,
        clock: Clock | None = None,
        group: Callable[[ConsumerConfig, str], Group] = stream_group,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not config.redis_url:
            raise ValueError("a durable consumer needs a redis_url")
        self.config = config
        self.sink = sink
        self.name = name
        self.clock = clock or LoopClock()
        self._make_group = group
        self._sleep = sleep
        self.link: Reconnect = Reconnect(
            f"{name} consumer",
            monotonic=self.clock.monotonic,
            backoff=backoff or Backoff(base_s=0.2, cap_s=10.0),
            logger=log,
            on_outage=link_hook(lambda: self.link.last_error),  # Redis or the sink (PostgreSQL, the disk)
        )
        self.last_error = ""
        self.lag = LagMonitor(config.retention_warn_ratio, config.retention_entries)
        self.rate = RateMeter()
        self.batches = 0
        self.acked = 0
        self.duplicates = 0
        self.malformed = 0
        self.empty = 0
        self.claimed = 0
        self._shards: list[_Shard] = []
        self._writing = asyncio.Semaphore(max(1, sink.writers))
        self._stopped = False
        self._broken = False
        self._next_lag = 0.0
        self._next_report = 0.0
        self._started: float | None = None

    @property
    def state(self) -> State:
        if self.link.state is LinkState.IDLE:
            return State.STOPPED if self._stopped else State.CONNECTING
        return _STATES[self.link.state]

    @property
    def reconnects(self) -> int:
        """Failures that made the consumer start again (a failed connect included)."""
        return self.link.errors

    # ── lifecycle ───────────────────────────────────────────────────────────────────────────

    async def run(self) -> None:
        """Consume until cancelled, reconnecting after every failure (the shared Reconnect
        policy: state, backoff reset on connect, one warning per outage)."""
        link = self.link
        if self._started is None:
            self._started = self.clock.monotonic()
        try:
            while True:
                link.connecting()
                error: BaseException
                try:
                    await self._connect()
                    link.connected()
                    await self._consume()
                    raise AssertionError("the consume loop returned")  # it only ends by raising
                except ConsumerError as exc:
                    error = exc
                except Exception as exc:  # a bug must not leave the server up with no consumer
                    log.exception("%s: unexpected failure", self.name)
                    error = exc
                self.last_error = str(error) if isinstance(error, ConsumerError) else f"unexpected: {error!r}"
                await self._disconnect()
                await self._sleep(link.failed(error))
        finally:
            await self._disconnect()
            self._stopped = True
            link.stopped()

    async def _connect(self) -> None:
        self._broken = False
        streams = self.config.streams
        sharded = len(streams) > 1
        self._shards = [
            _Shard(i if sharded else None, stream, self._make_group(self.config, stream))
            for i, stream in enumerate(streams)
        ]
        for shard in self._shards:
            await self._call(shard.group.ping())
            await self._ensure_group(shard)
        await self.sink.open()
        for shard in self._shards:
            if self.config.claim_idle_s:
                # Entries other consumers of the group left pending (a renamed or retired consumer)
                # join this consumer's PEL, which recovery reads next.
                idle_ms = int(self.config.claim_idle_s * 1000)
                self.claimed += await self._call(shard.group.claim_idle(idle_ms, self.config.batch_size))
            shard.cursor.restart()

    async def _disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.sink.close()
        shards, self._shards = self._shards, []
        for shard in shards:
            with contextlib.suppress(Exception):
                await shard.group.close()

    # ── Redis calls, with errors translated ────────────────────────────────────────────────

    @property
    def cursor(self) -> ReadCursor:
        """The first shard's cursor (the only one of an unsharded stream)."""
        return self._shards[0].cursor if self._shards else ReadCursor()

    @staticmethod
    async def _call(call: Awaitable[T]) -> T:
        try:
            return await call
        except BusReplyError as exc:
            if exc.code == NOGROUP:
                raise _GroupMissing(str(exc)) from exc
            raise SourceUnavailable(str(exc)) from exc
        except BusError as exc:
            raise SourceUnavailable(str(exc)) from exc

    async def _ensure_group(self, shard: _Shard) -> None:
        if await self._call(shard.group.ensure_group()):
            log.info("%s: created group %s on %s", self.name, self.config.group, shard.stream)

    # ── the loop ───────────────────────────────────────────────────────────────────────────

    async def _consume(self) -> None:
        """Every shard's loop; the first failure ends them all."""
        if len(self._shards) == 1:
            await self._consume_shard(self._shards[0])
            return
        tasks = [asyncio.create_task(self._consume_shard(shard)) for shard in self._shards]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            # The failure as it is (not in an ExceptionGroup), the cause before a halted batch.
            for task in sorted(done, key=lambda t: not t.cancelled() and isinstance(t.exception(), _Halted)):
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            for task in tasks:
                if not task.cancelled():
                    task.exception()  # retrieved: the failure that matters is already raised

    async def _consume_shard(self, shard: _Shard) -> None:
        """Read, write, ack. The next read is under way while batches are written, and a sink
        with `writers` > 1 has that many batches in flight, each acked after its own commit.
        None of it risks an entry: a delivered entry is only acked once durable, and a failure
        anywhere leaves everything unacked in the PEL, which the reconnect reads first."""
        writes: deque[asyncio.Task[None]] = deque()
        try:
            while True:
                try:
                    raw, redelivered = await self._read(shard)
                except _GroupMissing as exc:
                    log.warning("%s: %s; creating the group again", self.name, exc)
                    await self._ensure_group(shard)
                    shard.cursor.restart()
                    continue
                while writes and (writes[0].done() or len(writes) >= self.sink.writers or not raw):
                    await writes.popleft()  # raises what the write raised
                if raw:
                    writes.append(asyncio.create_task(self._write(shard, raw, redelivered)))
                    continue
                await self.sink.maintain()
                await self._observe()
        finally:
            # Cancel what is still in flight and wait for it, without swallowing a cancellation
            # of this task (suppressing BaseException here once let a cancelled consumer run on).
            for task in writes:
                task.cancel()
            if writes:
                await asyncio.wait(writes)
                for task in writes:
                    if not task.cancelled():
                        task.exception()  # retrieved: the failure that matters is already raised

    async def _read(self, shard: _Shard) -> tuple[list[RawEntry], bool]:
        cursor = shard.cursor
        redelivering = cursor.redelivering
        block_ms = None if redelivering else self.config.max_wait_ms
        raw = await self._call(shard.group.read(cursor.next_id(), self.config.batch_size, block_ms))
        cursor.delivered([raw_id.decode() for raw_id, _ in raw])
        return raw, redelivering

    async def _write(self, shard: _Shard, raw: list[RawEntry], redelivered: bool) -> None:
        entries, empty = parse_entries(raw, shard.index)
        async with self._writing:
            # A batch holds its writer slot until acked, and after a failure nothing more is
            # written until the reconnect: so at most `writers` batches are ever durable and
            # unacked, the last ones written (server_log's recovery relies on it, one shard or
            # several: with one writer, only the last batch written can come again).
            if self._broken:
                raise _Halted("an earlier batch failed: reconnecting")
            try:
                result = await self.sink.write(entries, redelivered=redelivered) if entries else WriteResult(0)
                # The batch is durable: only now may Redis forget it.
                await self._call(shard.group.ack([raw_id for raw_id, _ in raw]))
            except BaseException:  # a cancellation too: its write may finish in the sink's thread
                self._broken = True
                raise
        self.batches += 1
        self.acked += len(raw)
        self.duplicates += result.duplicates
        self.malformed += result.malformed
        self.empty += len(empty)
        self.rate.add(self.clock.monotonic(), result.written)
        await self.sink.maintain()
        await self._observe()

    async def _observe(self) -> None:
        now = self.clock.monotonic()
        if now >= self._next_lag:
            self._next_lag = now + LAG_INTERVAL_S
            shards = [await self._call(shard.group.figures()) for shard in list(self._shards)]
            figures = [f for f in shards if f is not None]
            if figures:
                lags = [f.lag for f in figures]
                lag = None if None in lags else sum(f.lag or 0 for f in figures)
                self.lag.update(lag, sum(f.pending for f in figures), sum(f.length for f in figures))
        if now >= self._next_report:
            self._next_report = now + REPORT_INTERVAL_S
            log.info(
                "%s: %.0f rows/s, %d rows in all, lag %s, pending %d",
                self.name,
                self.rate.rate(now),
                self.rate.total,
                self.lag.lag,
                self.lag.pending,
            )

    # ── reporting ──────────────────────────────────────────────────────────────────────────

    def status(self) -> dict[str, object]:
        now = self.clock.monotonic()
        return {
            "state": self.state.value,
            "phase": self.cursor.phase.value,
            "last_error": self.last_error,
            "uptime_s": round(now - (self._started or now), 3),
            "stream": self.config.stream,
            **({"streams": self.config.streams} if len(self.config.streams) > 1 else {}),
            "group": self.config.group,
            "consumer": self.config.consumer_name,
            "rows": self.rate.total,
            "rows_per_s": round(self.rate.rate(now), 1),
            "acked": self.acked,
            "batches": self.batches,
            "duplicates": self.duplicates,
            "malformed": self.malformed,
            "claimed": self.claimed,
            "reconnects": self.reconnects,
            "redis": self.link.figures(),
            "lag": self.lag.lag,
            "pending": self.lag.pending,
            "stream_length": self.lag.length,
            "retention_warning": self.lag.warning,
            "sink": self.sink.status(),
        }

    def metrics(self) -> str:
        p = self.name
        out = Exposition()
        now = self.clock.monotonic()
        out.gauge(f"{p}_up", "1 while connected to Redis and the sink and consuming.", int(self.state is State.RUNNING))
        out.counter(f"{p}_rows_total", "Rows written that the sink did not hold yet.", self.rate.total)
        out.gauge(f"{p}_rows_per_second", "Rows written per second over the last 10 s.", self.rate.rate(now))
        out.counter(f"{p}_acked_total", "Stream entries acked after the sink made them durable.", self.acked)
        out.counter(f"{p}_batches_total", "Batches written and acked.", self.batches)
        out.counter(f"{p}_duplicates_total", "Redelivered entries the sink already held.", self.duplicates)
        out.counter(f"{p}_malformed_total", "Entries whose frame was not a quote (acked, not written).", self.malformed)
        out.counter(f"{p}_empty_total", "Pending entries trimmed or deleted before they were read.", self.empty)
        out.counter(f"{p}_reconnects_total", "Failures that made the consumer reconnect.", self.reconnects)
        out.gauge(
            f"{p}_lag_entries", "Entries in the stream the group has not read (XINFO GROUPS lag).", self.lag.lag or 0
        )
        out.gauge(f"{p}_pending_entries", "Entries delivered to the group and not acked.", self.lag.pending)
        out.gauge(f"{p}_stream_length", "Entries the stream holds.", self.lag.length)
        out.gauge(f"{p}_lag_retention_ratio", "Lag over the stream's retention.", self.lag.ratio)
        out.gauge(
            f"{p}_retention_warning",
            "1 while the lag is near the retention and entries may be trimmed unread.",
            int(self.lag.warning),
        )
        out.counter(f"{p}_retention_warnings_total", "Times the lag reached the warning ratio.", self.lag.warnings)
        self.sink.expose(out, p)
        return out.render()
