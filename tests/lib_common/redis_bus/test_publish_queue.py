"""The publisher's policy: what goes to memory, the spool or nowhere, in which order batches
leave, and that nothing leaves before Redis has it; with a spool in memory and fake links, then
with the real spool across a publisher's restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from lib_common.core.backoff import Backoff
from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.errors import BusUnavailable
from lib_common.redis_bus.buffer import Outgoing, PublishQueue
from lib_common.redis_bus.publisher import Publisher, PublishLink
from lib_common.redis_bus.spool import Spool


class ListSpool:
    """The Overflow interface on a list, `room` records big."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.records: list[Outgoing] = []

    @property
    def empty(self) -> bool:
        return not self.records

    def append(self, records: list[Outgoing]) -> int:
        taken = records[: max(0, self.room - len(self.records))]
        self.records += taken
        return len(taken)


def frames(n: int, start: int = 0) -> list[Frame]:
    return [Frame.quote(Quote("AAPL", i, i, price=float(i)), i) for i in range(start, start + n)]


def seqs(records: Sequence[Outgoing]) -> list[int]:
    return [int(r.quote_id.rpartition(b":")[2]) for r in records]


def test_memory_overflows_oldest_first_into_the_spool_then_drops_and_reports_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spool = ListSpool(room=4)
    queue = PublishQueue(3, b"ep", spool)
    assert queue.offer(frames(5)) == 5
    assert seqs(spool.records) == [0, 1] and len(queue.memory) == 3 and queue.from_spool()
    with caplog.at_level(logging.WARNING):
        queue.offer(frames(5, start=5))  # 10 offered: 3 in memory, 4 in the spool, 3 dropped
        queue.offer(frames(1, start=10))
    assert seqs(spool.records) == [0, 1, 2, 3] and queue.memory.peek(10)[1] == 11
    assert seqs(queue.memory.peek(10)[0]) == [8, 9, 10]
    assert queue.dropped == 4 and queue.spooled == 4 and queue.spool_full
    assert queue.dropped_bytes == sum(len(f.payload) for f in frames(4, start=4))
    assert caplog.text.count("spool full") == 1  # the alert, once while it stays full
    with caplog.at_level(logging.WARNING):
        assert queue.drops_report() == (4, queue.dropped_bytes)
        assert queue.drops_report() is None
    assert f"4 frames ({queue.dropped_bytes} bytes) dropped" in caplog.text


def test_a_batch_stays_in_memory_until_acknowledged_and_overflow_meanwhile_keeps_order() -> None:
    spool = ListSpool(room=100)
    queue = PublishQueue(4, b"ep", spool)
    queue.offer(frames(4))
    batch, end = queue.memory.peek(2)
    assert seqs(batch) == [0, 1] and end == 2 and len(queue.memory) == 4  # peeked, not taken
    queue.offer(frames(3, start=4))  # while it is in flight: 0, 1 (in flight) and 2 overflow
    assert seqs(spool.records) == [0, 1, 2]
    queue.memory.pop(end)  # acknowledged: what memory still held of it goes (nothing here)
    assert seqs(queue.memory.peek(10)[0]) == [3, 4, 5, 6] and queue.from_spool()


def test_without_a_spool_overflow_drops_the_oldest() -> None:
    queue = PublishQueue(2, b"ep")
    queue.offer(frames(5))
    assert queue.dropped == 3 and not queue.from_spool() and not queue.spool_full
    assert seqs(queue.memory.peek(5)[0]) == [3, 4]
    assert queue.persist() == 0


class Flaky:
    """Links that refuse while `down`, and a link that fails its `fail_batch`-th batch."""

    def __init__(self, fail_batch: int | None = None) -> None:
        self.down = False
        self.sent: list[Outgoing] = []
        self.batches = 0
        self.fail_batch = fail_batch

    async def __call__(self) -> PublishLink:
        if self.down:
            raise BusUnavailable("connection refused")
        return self

    async def send(self, batch: Sequence[Outgoing]) -> None:
        await asyncio.sleep(0)
        if self.down:
            raise BusUnavailable("connection reset")
        self.batches += 1
        if self.batches == self.fail_batch:
            self.sent += batch[: len(batch) // 2]  # half of it reached Redis
            raise BusUnavailable("connection reset")
        self.sent += batch

    async def close(self) -> None:
        return None


async def settle(rounds: int = 200) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Real time: the spool reads its files in a worker thread."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def no_wait(delay: float) -> None:
    await asyncio.sleep(0)


def fast() -> Backoff:
    return Backoff(0.01, 0.01, 0.0)


@pytest.mark.asyncio
async def test_an_outage_longer_than_memory_loses_nothing_and_sends_in_order(tmp_path: Path) -> None:
    links = Flaky(fail_batch=3)
    spool = Spool(tmp_path, 1 << 20, segment_bytes=4096)
    publisher = Publisher(links, buffer=10, batch=8, spool=spool, epoch=b"ep", backoff=fast(), sleep=no_wait)
    await publisher.start()
    publisher.offer(frames(20))
    await settle()
    links.down = True
    for n in range(10):  # 100 frames while Redis is away: 10 fit in memory, 90 go to disk
        publisher.offer(frames(10, start=20 + 10 * n))
        await settle(5)
    assert spool.appended >= 90 and publisher.buffered == 10 and publisher.dropped == 0
    links.down = False
    await until(lambda: spool.empty and publisher.buffered == 0)
    sent = seqs(links.sent)
    assert sorted(set(sent)) == list(range(120))  # every frame, the half-sent batch's included
    resent = [s for i, s in enumerate(sent) if s in sent[:i]]
    assert resent and publisher.resent > 0
    first_seen = sorted(set(sent), key=sent.index)
    assert first_seen == list(range(120))  # new frames only ever in order
    assert spool.empty and publisher.buffered == 0
    await publisher.stop()


@pytest.mark.asyncio
async def test_stop_keeps_what_memory_holds_in_the_spool_for_the_next_run(tmp_path: Path) -> None:
    links = Flaky()
    links.down = True
    first = Publisher(links, buffer=5, spool=Spool(tmp_path, 1 << 20), epoch=b"one", backoff=fast(), sleep=no_wait)
    await first.start()
    first.offer(frames(8))
    await settle(20)
    await first.stop()
    links.down = False
    second = Publisher(links, buffer=5, spool=Spool(tmp_path, 1 << 20), epoch=b"two", backoff=fast(), sleep=no_wait)
    second.offer(frames(2, start=8))
    await second.start()
    await until(lambda: len(links.sent) == 10)
    assert [r.quote_id for r in links.sent] == [b"one:%d" % i for i in range(8)] + [b"two:0", b"two:1"]
    assert [r.payload for r in links.sent] == [f.payload for f in frames(10)]
    await second.stop()
