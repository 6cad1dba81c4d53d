"""The consumer's ack rule against a real Redis, with a sink that fails on demand."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from lib_common.metrics import Exposition
from servers.durable.config import ConsumerConfig
from servers.durable.consumer import DurableConsumer, State, WriteResult
from servers.durable.entries import StreamEntry
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
    import json

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
