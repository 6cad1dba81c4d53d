"""The Redis side of a durable consumer: one consumer group, batches handed to a sink, XACK
only after the sink made them durable.

    connect (Redis, the group, the sink) ─▶ claim idle entries of other consumers
        ─▶ re-read own pending entries ─▶ read new ones ─┐
                 ▲                                       │ any failure: close both, back off,
                 └───────────────────────────────────────┘ and start again from the PEL

An entry is acked only after the sink returned from `write` for the batch holding it, so a
crash or an outage at any point leaves it pending, and it is delivered again: the sink makes
the redelivery harmless (a unique key in PostgreSQL, the file's last id for the logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import redis.asyncio as aioredis
import redis.exceptions

from lib_common.clock import Clock, LoopClock
from lib_common.core.backoff import Backoff
from lib_common.metrics import Exposition
from servers.durable.config import ConsumerConfig
from servers.durable.entries import RawEntry, StreamEntry, parse_entries
from servers.durable.errors import ConsumerError, SourceUnavailable
from servers.durable.policy import LagMonitor, RateMeter, ReadCursor
from servers.durable.stream_reader import StreamReader

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


class State(enum.Enum):
    CONNECTING = "connecting"
    RUNNING = "running"
    BACKING_OFF = "backing_off"
    STOPPED = "stopped"


class _GroupMissing(Exception):
    """NOGROUP: Redis lost the stream or the group (a restart without persistence)."""


class DurableConsumer:
    def __init__(self, config: ConsumerConfig, sink: Sink, *, name: str, clock: Clock | None = None) -> None:
        if not config.redis_url:
            raise ValueError("a durable consumer needs a redis_url")
        self.config = config
        self.sink = sink
        self.name = name
        self.clock = clock or LoopClock()
        self.state = State.CONNECTING
        self.last_error = ""
        self.cursor = ReadCursor()
        self.lag = LagMonitor(config.retention_warn_ratio, config.retention_entries)
        self.rate = RateMeter()
        self.batches = 0
        self.acked = 0
        self.duplicates = 0
        self.malformed = 0
        self.empty = 0
        self.claimed = 0
        self.reconnects = 0
        self._redis: aioredis.Redis | None = None
        self._reader: StreamReader | None = None
        self._next_lag = 0.0
        self._next_report = 0.0
        self._started = time.monotonic()

    # ── lifecycle ───────────────────────────────────────────────────────────────────────────

    async def run(self) -> None:
        """Consume until cancelled, reconnecting after every failure."""
        backoff = Backoff(base_s=0.2, cap_s=10.0)
        try:
            while True:
                try:
                    await self._connect()
                    await self._consume(backoff)
                except ConsumerError as exc:
                    self.last_error = str(exc)
                except Exception as exc:  # a bug must not leave the server up with no consumer
                    log.exception("%s: unexpected failure", self.name)
                    self.last_error = f"unexpected: {exc!r}"
                self._enter(State.BACKING_OFF, self.last_error)
                self.reconnects += 1
                await self._disconnect()
                await asyncio.sleep(backoff.next_delay())
        finally:
            await self._disconnect()
            self._enter(State.STOPPED)

    def _enter(self, state: State, why: str = "") -> None:
        if state is not self.state:
            log.log(
                logging.WARNING if state is State.BACKING_OFF else logging.INFO,
                "%s: %s -> %s%s",
                self.name,
                self.state.value,
                state.value,
                f" ({why})" if why else "",
            )
            self.state = state

    async def _connect(self) -> None:
        self._enter(State.CONNECTING)
        block_s = self.config.max_wait_ms / 1000
        self._redis = aioredis.Redis.from_url(
            self.config.redis_url or "",
            socket_connect_timeout=5,
            socket_timeout=block_s + 10,
            decode_responses=False,
        )
        await self._call(self._redis.ping())
        self._reader = StreamReader(self.config.redis_url or "", timeout_s=block_s + 10)
        await self._ensure_group()
        await self.sink.open()
        await self._claim_idle()
        self.cursor.restart()
        self._enter(State.RUNNING)

    async def _disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.sink.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader.close()
            self._reader = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    # ── Redis calls, with errors translated ────────────────────────────────────────────────

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            raise SourceUnavailable("not connected to redis")
        return self._redis

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except redis.exceptions.ResponseError as exc:
            if str(exc).startswith("NOGROUP"):
                raise _GroupMissing(str(exc)) from exc
            raise SourceUnavailable(f"redis: {exc}") from exc
        except (redis.exceptions.RedisError, OSError) as exc:
            raise SourceUnavailable(f"redis: {exc or type(exc).__name__}") from exc

    async def _ensure_group(self) -> None:
        try:
            await self._call(self.redis.xgroup_create(self.config.stream, self.config.group, id="0", mkstream=True))
            log.info("%s: created group %s on %s", self.name, self.config.group, self.config.stream)
        except SourceUnavailable as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _claim_idle(self) -> None:
        """Take over entries other consumers of the group left pending (a renamed or retired
        consumer): they join this consumer's PEL, which recovery reads next."""
        if not self.config.claim_idle_s:
            return
        start = "0-0"
        for _ in range(10_000):  # bounded: each round moves the cursor on by up to one batch
            reply = await self._call(
                self.redis.xautoclaim(
                    self.config.stream,
                    self.config.group,
                    self.config.consumer_name,
                    int(self.config.claim_idle_s * 1000),
                    start_id=start,
                    count=self.config.batch_size,
                )
            )  # not JUSTID: redis-py drops the cursor from that reply
            self.claimed += len(reply[1])
            start = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
            if start == "0-0":
                return

    # ── the loop ───────────────────────────────────────────────────────────────────────────

    async def _consume(self, backoff: Backoff) -> None:
        """Read, write, ack. The next read is under way while batches are written, and a sink
        with `writers` > 1 has that many batches in flight, each acked after its own commit.
        None of it risks an entry: a delivered entry is only acked once durable, and a failure
        anywhere leaves everything unacked in the PEL, which the reconnect reads first."""
        writes: deque[asyncio.Task[None]] = deque()
        try:
            while True:
                try:
                    raw, redelivered = await self._read()
                except _GroupMissing as exc:
                    log.warning("%s: %s; creating the group again", self.name, exc)
                    await self._ensure_group()
                    self.cursor.restart()
                    continue
                while writes and (writes[0].done() or len(writes) >= self.sink.writers or not raw):
                    await writes.popleft()  # raises what the write raised
                if raw:
                    writes.append(asyncio.create_task(self._write(raw, redelivered)))
                    continue
                backoff.reset()
                await self.sink.maintain()
                await self._observe()
        finally:
            for task in writes:
                task.cancel()
            for task in writes:
                with contextlib.suppress(BaseException):
                    await task

    async def _read(self) -> tuple[list[RawEntry], bool]:
        redelivering = self.cursor.redelivering
        if self._reader is None:
            raise SourceUnavailable("not connected to redis")
        raw = await self._call(
            self._reader.xreadgroup(
                self.config.group,
                self.config.consumer_name,
                self.config.stream,
                self.cursor.next_id(),
                self.config.batch_size,
                None if redelivering else self.config.max_wait_ms,
            )
        )
        self.cursor.delivered([raw_id.decode() for raw_id, _ in raw])
        return raw, redelivering

    async def _write(self, raw: list[RawEntry], redelivered: bool) -> None:
        entries, empty = parse_entries(raw)
        result = await self.sink.write(entries, redelivered=redelivered) if entries else WriteResult(0)
        # The batch is durable: only now may Redis forget it.
        await self._call(self.redis.xack(self.config.stream, self.config.group, *(raw_id for raw_id, _ in raw)))
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
            groups = await self._call(self.redis.xinfo_groups(self.config.stream))
            info = await self._call(self.redis.xinfo_stream(self.config.stream))
            for group in groups:
                name = group.get("name")
                if (name.decode() if isinstance(name, bytes) else name) == self.config.group:
                    lag = group.get("lag")
                    self.lag.update(None if lag is None else int(lag), int(group["pending"]), int(info["length"]))
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
            "uptime_s": round(time.monotonic() - self._started, 3),
            "stream": self.config.stream,
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
