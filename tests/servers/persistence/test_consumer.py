"""The consumer's ack rule against a real Redis, with a sink that fails on demand."""

from __future__ import annotations

import asyncio
import contextlib
import json

import psycopg
import pytest

from lib_common.clock import ManualClock
from lib_common.core.backoff import Backoff
from lib_common.errors import BusReplyError, BusUnavailable
from lib_common.metrics import Exposition
from lib_common.redis_bus.stream import StreamEntry
from servers.durable.config import ConsumerConfig
from servers.durable.consumer import DurableConsumer, State, WriteResult
from servers.durable.errors import SinkUnavailable
from servers.server_sql.writer import PostgresSink
from tests.servers.persistence.services import SHARED_DSN, SHARED_REDIS, pending, publish, quote, stream_ids_in


class FlakySink:
    """Records batches; fails the `fail_on`-th write (1-based) once, as a lost database would."""

    writers = 1

    def __init__(self, fail_on: int) -> None:
        self.fail_on = fail_on
        self.calls = 0
        self.batches: list[tuple[list[str], bool]] = []
        self.pending_seen: list[int] = []

    async def open(self) -> None:
        return None

    async def write(self, entries: list[StreamEntry], redelivered: bool) -> WriteResult:
        self.calls += 1
        if self.calls == self.fail_on:
            raise SinkUnavailable("database went away")
        self.batches.append(([e.id for e in entries], redelivered))
        return WriteResult(len(entries))

    async def maintain(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def expose(self, out: Exposition, prefix: str) -> None:
        return None

    def status(self) -> dict[str, object]:
        return {}


async def run_until(consumer: DurableConsumer, done: object, timeout: float = 30) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(timeout):
            while not done():  # type: ignore[operator]
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_a_failed_write_is_not_acked_and_comes_again(names: tuple[str, str]) -> None:
    prefix, _ = names
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(10)])
    sink = FlakySink(fail_on=2)
    config = ConsumerConfig("g", SHARED_REDIS, prefix=prefix, consumer="c1", batch_size=4, max_wait_ms=50)
    consumer = DurableConsumer(config, sink, name="test")
    written = lambda: sorted({i for batch, _ in sink.batches for i in batch})  # noqa: E731
    asyncio.run(run_until(consumer, lambda: written() == sorted(ids) and consumer.state is State.RUNNING))
    # batch 1 went through; batch 2 failed, so it was not acked: after the reconnect it is read
    # again from the PEL (redelivered=True) before anything new
    assert sink.batches[0] == (ids[:4], False)
    assert sink.batches[1] == (ids[4:8], True)
    assert consumer.reconnects == 1 and consumer.acked == 10
    assert pending(SHARED_REDIS, prefix, "g") == 0


def test_entries_pending_at_start_are_delivered_first(names: tuple[str, str]) -> None:
    prefix, _ = names
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(6)])
    config = ConsumerConfig("g", SHARED_REDIS, prefix=prefix, consumer="c1", batch_size=3, max_wait_ms=50)
    crashing = FlakySink(fail_on=1)
    first = DurableConsumer(config, crashing, name="first")
    asyncio.run(run_until(first, lambda: first.reconnects >= 1))  # read 3 (and 3 ahead), acked none
    assert pending(SHARED_REDIS, prefix, "g") == 6
    sink = FlakySink(fail_on=0)
    second = DurableConsumer(config, sink, name="second")
    asyncio.run(run_until(second, lambda: len(sink.batches) >= 2))
    assert sink.batches[:2] == [(ids[:3], True), (ids[3:], True)]


def test_claims_entries_left_by_another_consumer(names: tuple[str, str]) -> None:
    prefix, _ = names
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(4)])
    old = ConsumerConfig("g", SHARED_REDIS, prefix=prefix, consumer="retired", batch_size=10, max_wait_ms=50)
    gone = DurableConsumer(old, FlakySink(fail_on=1), name="retired")
    asyncio.run(run_until(gone, lambda: gone.reconnects >= 1))
    sink = FlakySink(fail_on=0)
    new = ConsumerConfig("g", SHARED_REDIS, prefix=prefix, consumer="new", claim_idle_s=0.001, max_wait_ms=50)
    taker = DurableConsumer(new, sink, name="new")
    asyncio.run(run_until(taker, lambda: len(sink.batches) >= 1))
    assert taker.claimed == 4 and sink.batches[0] == (ids, True)


@pytest.mark.asyncio
async def test_postgres_sink_writes_a_redelivered_batch_once(names: tuple[str, str]) -> None:
    prefix, table = names
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(50)])
    entries = [StreamEntry(i, "S", json.dumps(quote(n)).encode()) for n, i in enumerate(ids)]
    sink = PostgresSink(SHARED_DSN, table)
    await sink.open()
    try:
        first = await sink.write(entries[:30], redelivered=False)
        again = await sink.write(entries, redelivered=True)
        assert (first.written, again.written, again.duplicates) == (30, 20, 30)
        bad = await sink.write([StreamEntry("1-1", "S", b"not json")], redelivered=False)
        assert bad.malformed == 1
    finally:
        await sink.close()
    assert sorted(stream_ids_in(SHARED_DSN, table)) == sorted(ids)


@pytest.mark.asyncio
async def test_postgres_sink_skips_a_frame_the_publisher_sent_again(names: tuple[str, str]) -> None:
    """A resend is a new stream entry with the quote id of one already written: no second row,
    whichever way the batch goes (the fast path, or the checked one after a bad frame)."""
    _, table = names
    frames = [json.dumps(quote(n)).encode() for n in range(6)]
    originals = [StreamEntry(f"1-{n}", "S", f, f"ep:{n}") for n, f in enumerate(frames)]
    resent = [StreamEntry(f"2-{n}", "S", f, f"ep:{n}") for n, f in enumerate(frames)]
    sink = PostgresSink(SHARED_DSN, table)
    await sink.open()
    try:
        first = await sink.write(originals[:4], redelivered=False)
        again = await sink.write(resent, redelivered=False)  # 0-3 already in, 4-5 new
        assert (first.written, again.written, again.duplicates) == (4, 2, 4)
        checked = await sink.write([*resent[:2], StreamEntry("3-0", "S", b"not json", "ep:9")], redelivered=False)
        assert (checked.written, checked.duplicates, checked.malformed, sink.fallbacks) == (0, 2, 1, 1)
        twice = await sink.write(
            [StreamEntry("4-0", "S", frames[0], "ep:10"), StreamEntry("4-1", "S", frames[0], "ep:10")], False
        )
        assert (twice.written, twice.duplicates) == (1, 1)  # a resend within one batch
    finally:
        await sink.close()
    with psycopg.connect(SHARED_DSN) as conn:
        rows = conn.execute(f"SELECT stream_id, quote_id FROM {table} ORDER BY quote_id").fetchall()
    assert sorted(q for _, q in rows) == sorted([f"ep:{n}" for n in range(6)] + ["ep:10"])


@pytest.mark.asyncio
async def test_a_new_table_has_one_unique_key_for_both_ids(names: tuple[str, str]) -> None:
    """One unique index (a second costs ~40 % of the insert rate): the quote id, else the stream id."""
    _, table = names
    frame = json.dumps(quote(1)).encode()
    sink = PostgresSink(SHARED_DSN, table)
    await sink.open()
    try:
        first = await sink.write([StreamEntry("1-0", "S", frame), StreamEntry("1-1", "S", frame, "ep:1")], False)
        again = await sink.write(
            [StreamEntry("1-0", "S", frame), StreamEntry("2-0", "S", frame, "ep:1"), StreamEntry("1-0@1", "S", frame)],
            True,
        )
    finally:
        await sink.close()
    assert (first.written, again.written, again.duplicates) == (2, 1, 2)  # 1-0@1: another shard's entry
    with psycopg.connect(SHARED_DSN) as conn:
        unique = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE 'CREATE UNIQUE%%'", (table,)
        ).fetchall()
    assert [d for (d,) in unique] == [
        f"CREATE UNIQUE INDEX {table}_key ON public.{table} USING btree (COALESCE(quote_id, stream_id))"
    ]


@pytest.mark.asyncio
async def test_a_table_made_before_quote_ids_is_migrated(names: tuple[str, str]) -> None:
    _, table = names
    with psycopg.connect(SHARED_DSN, autocommit=True) as conn:  # the layout of earlier releases
        conn.execute(
            f"CREATE TABLE {table} (stream_id text PRIMARY KEY, symbol text NOT NULL, price double precision,"
            " change double precision, change_percent double precision, day_volume bigint, market_hours text,"
            " currency text, exchange text, ts_upstream bigint, ts_library_in bigint, ts_library_out bigint,"
            " extra jsonb, ts timestamptz GENERATED ALWAYS AS (to_timestamp(ts_upstream / 1e6::double precision))"
            " STORED)"
        )
        conn.execute(
            f"INSERT INTO {table} (stream_id, symbol, ts_upstream) VALUES ('0-1', 'OLD', 1), ('0-2', 'OLD', 2)"
        )
    frame = json.dumps(quote(1)).encode()
    for _ in range(2):  # the second open finds everything in place
        sink = PostgresSink(SHARED_DSN, table)
        await sink.open()
        try:
            result = await sink.write(
                [StreamEntry("1-0", "S", frame, "ep:1"), StreamEntry("1-1", "S", frame, "ep:1")], False
            )
        finally:
            await sink.close()
    assert (result.written, result.duplicates) == (0, 2)
    with psycopg.connect(SHARED_DSN) as conn:
        rows = conn.execute(f"SELECT stream_id, quote_id FROM {table} ORDER BY stream_id").fetchall()
    assert rows == [("0-1", None), ("0-2", None), ("1-0", "ep:1")]
    with psycopg.connect(SHARED_DSN, autocommit=True) as conn:  # docs/server_sql.md: to the one key
        conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {table}_key ON {table} ((COALESCE(quote_id, stream_id)))")
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        conn.execute(f"DROP INDEX IF EXISTS {table}_quote_id_key")
    sink = PostgresSink(SHARED_DSN, table)
    await sink.open()
    try:
        moved = await sink.write([StreamEntry("0-2", "S", frame), StreamEntry("3-0", "S", frame, "ep:1")], True)
    finally:
        await sink.close()
    assert (moved.written, moved.duplicates) == (0, 2)
    with psycopg.connect(SHARED_DSN) as conn:
        indexes = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", (table,)).fetchall()
    assert sorted(name for (name,) in indexes) == sorted(f"{table}{s}" for s in ("_key", "_symbol_ts_idx", "_ts_idx"))


# ── the loop with a fake group and a fake sleep: the reconnect policy, no Redis, no waiting ──


class FakeGroup:
    """A stream with one consumer's PEL, failing on demand."""

    def __init__(
        self,
        ids: list[str],
        *,
        refuse_connects: int = 0,
        nogroup_reads: int = 0,
        failing_acks: int = 0,
        events: list[str] | None = None,
    ) -> None:
        self.entries = [[i.encode(), [b"symbol", b"S", b"frame", b"{}"]] for i in ids]
        self.failing_acks = failing_acks
        self.events = events if events is not None else []
        self.next = 0
        self.pel: list[bytes] = []
        self.refuse_connects = refuse_connects
        self.nogroup_reads = nogroup_reads
        self.groups_created = 0
        self.closed = 0

    async def ping(self) -> None:
        if self.refuse_connects:
            self.refuse_connects -= 1
            raise BusUnavailable("redis at redis://fake: connection refused")

    async def ensure_group(self) -> bool:
        self.groups_created += 1
        return True

    async def claim_idle(self, min_idle_ms: int, count: int) -> int:
        return 0

    async def read(self, after: str, count: int, block_ms: int | None) -> list[list[object]]:
        await asyncio.sleep(0)
        if self.nogroup_reads:
            self.nogroup_reads -= 1
            raise BusReplyError("NOGROUP", "NOGROUP No such key or consumer group")
        if after != ">":
            return [e for e in self.entries if e[0] in self.pel and e[0] > after.encode()][:count]
        batch = self.entries[self.next : self.next + count]
        self.next += len(batch)
        self.pel += [e[0] for e in batch]  # type: ignore[misc]
        return batch  # type: ignore[return-value]

    async def ack(self, ids: list[bytes]) -> None:
        for _ in range(3):  # a round trip: the other shards' loops run meanwhile
            await asyncio.sleep(0)
        if self.failing_acks:
            self.failing_acks -= 1
            raise BusUnavailable("redis at redis://fake: connection lost")
        self.pel = [i for i in self.pel if i not in ids]
        self.events.append("ack " + ",".join(i.decode() for i in ids))

    async def figures(self) -> None:
        return None

    async def close(self) -> None:
        self.closed += 1


def drive(group: FakeGroup, sink: FlakySink, done: object) -> tuple[DurableConsumer, list[float]]:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    config = ConsumerConfig("g", "redis://fake", consumer="c1", batch_size=2, max_wait_ms=1)
    consumer = DurableConsumer(
        config, sink, name="t", group=lambda *_: group, backoff=Backoff(0.2, 10.0, jitter=0.0), sleep=sleep
    )
    asyncio.run(run_until(consumer, done, timeout=10))
    return consumer, sleeps


def test_connect_failures_back_off_through_the_shared_policy() -> None:
    group = FakeGroup(["1-0", "2-0", "3-0"], refuse_connects=3)
    sink = FlakySink(fail_on=0)
    consumer, sleeps = drive(group, sink, lambda: consumer_done(sink, 3))
    assert sleeps == [0.2, 0.4, 0.8]  # doubling, then the connect resets it
    assert consumer.reconnects == 3 and consumer.link.outages == 1 and consumer.link.connects == 1
    assert consumer.link.last_outage is not None and consumer.link.last_outage.errors == 3
    assert consumer.state is State.STOPPED and group.pel == []


def test_a_failed_write_reconnects_and_redelivers_without_real_sleeps() -> None:
    group = FakeGroup(["1-0", "2-0", "3-0", "4-0"])
    sink = FlakySink(fail_on=1)
    consumer, sleeps = drive(group, sink, lambda: consumer_done(sink, 4))
    assert sleeps == [0.2] and group.closed >= 1
    assert sink.batches[0] == (["1-0", "2-0"], True)  # from the PEL after the reconnect
    assert consumer.acked == 4 and group.pel == []


def test_nogroup_creates_the_group_again_without_reconnecting() -> None:
    group = FakeGroup(["1-0"], nogroup_reads=1)
    sink = FlakySink(fail_on=0)
    consumer, sleeps = drive(group, sink, lambda: consumer_done(sink, 1))
    assert group.groups_created == 2 and sleeps == [] and consumer.reconnects == 0


def test_uptime_is_the_injected_clock_s_since_the_run_began() -> None:
    clock = ManualClock()
    clock.advance(50.0)
    group = FakeGroup(["1-0"])
    sink = FlakySink(fail_on=0)
    config = ConsumerConfig("g", "redis://fake", consumer="c1", batch_size=2, max_wait_ms=1)
    consumer = DurableConsumer(config, sink, name="t", clock=clock, group=lambda *_: group)
    assert consumer.status()["uptime_s"] == 0.0

    async def go() -> None:
        task = asyncio.create_task(consumer.run())
        try:
            async with asyncio.timeout(10):
                while not consumer_done(sink, 1):
                    await asyncio.sleep(0.01)
            clock.advance(7.25)
            assert consumer.status()["uptime_s"] == 7.25
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(go())


class LoggingSink(FlakySink):
    """Puts its opens and writes in the groups' event log."""

    def __init__(self, events: list[str]) -> None:
        super().__init__(fail_on=0)
        self.events = events

    async def open(self) -> None:
        self.events.append("open")

    async def write(self, entries: list[StreamEntry], redelivered: bool) -> WriteResult:
        result = await super().write(entries, redelivered)
        self.events.append("write " + ",".join(e.id.partition("@")[0] for e in entries))
        return result


def test_shards_never_leave_two_batches_written_and_unacked() -> None:
    """Two shards into a one-writer sink: a batch is acked before the next is written, and
    after an ack failed nothing is written until the reconnect (server_log's recovery relies
    on it: only the last batch written may come again)."""
    events: list[str] = []
    groups = {
        "{p:quotes:0}": FakeGroup(["1-0", "2-0", "3-0", "4-0"], failing_acks=1, events=events),
        "{p:quotes:1}": FakeGroup(["5-0", "6-0", "7-0", "8-0"], events=events),
    }
    sink = LoggingSink(events)

    async def sleep(delay: float) -> None:
        return None

    config = ConsumerConfig("g", "redis+cluster://fake:1?stream_shards=2", prefix="p:", consumer="c1", batch_size=2)
    consumer = DurableConsumer(config, sink, name="t", group=lambda _, stream: groups[stream], sleep=sleep)
    asyncio.run(run_until(consumer, lambda: all(g.next == 4 and not g.pel for g in groups.values()), timeout=10))
    unacked: str | None = None
    for event in events:
        kind, _, ids = event.partition(" ")
        if kind == "write":
            assert unacked is None, f"{ids} written while {unacked} was not acked: {events}"
            unacked = ids
        elif kind == "ack":
            assert ids == unacked, events
            unacked = None
        else:  # a reconnect: what was written and not acked comes again from its PEL
            unacked = None
    assert consumer.reconnects == 1 and events.count("open") == 2
    assert "connection lost" in consumer.last_error  # the cause, not the batch halted after it
    written = sorted(i for batch, _ in sink.batches for i in batch)
    assert written == ["1-0@0", "1-0@0", "2-0@0", "2-0@0", "3-0@0", "4-0@0", "5-0@1", "6-0@1", "7-0@1", "8-0@1"]


def consumer_done(sink: FlakySink, n: int) -> bool:
    return len({i for batch, _ in sink.batches for i in batch}) == n


FRAME = {"type": "quote", "symbol": "A", "price": 1.5, "ts_upstream": 1, "ts_library_in": 2, "ts_library_out": 3}
OUT_OF_FORMAT = [
    {"ts_library_in": None},
    {"type": "pong"},
    {"market_hours": "lunch"},
    {"symbol": ""},
    {"ts_upstream": 1.5},
    {"day_volume": 2**63},
    {"price": float("nan")},
]


@pytest.mark.asyncio
async def test_postgres_fast_path_takes_what_the_decoder_takes(names: tuple[str, str]) -> None:
    """The fast path (PostgreSQL takes the frame apart) sends a batch the checked way (the bus's
    decoder) for every entry missing what the format requires, so those are counted, not
    written, whichever way their batch went (docs/server_sql.md says what only the decoder
    refuses)."""
    _, table = names
    sink = PostgresSink(SHARED_DSN, table)
    await sink.open()
    try:
        good = json.dumps({**FRAME, "rating": "fear", "flag": True}).encode()
        result = await sink.write([StreamEntry(f"1-{i}", "A", good) for i in range(3)], redelivered=False)
        assert (result.written, result.malformed, sink.fallbacks) == (3, 0, 0)
        for n, change in enumerate(OUT_OF_FORMAT):
            bad = json.dumps({k: v for k, v in {**FRAME, **change}.items() if v is not None}).encode()
            result = await sink.write([StreamEntry(f"2-{n}", "A", bad), StreamEntry(f"3-{n}", "A", good)], False)
            assert (result.written, result.malformed, sink.fallbacks) == (1, 1, n + 1), change
    finally:
        await sink.close()
    assert len(stream_ids_in(SHARED_DSN, table)) == 3 + len(OUT_OF_FORMAT)
