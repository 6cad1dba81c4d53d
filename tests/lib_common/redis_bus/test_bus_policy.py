"""The bus policies without Redis or real time: the publisher's bounded buffer, drops, batches,
backoff and reconnect; the subscriber's and RedisFeed's subscription tracking and resubscribe."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from lib_common.core.backoff import Backoff
from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.errors import BusUnavailable
from lib_common.ingestors.redis_feed import RedisFeed
from lib_common.redis_bus.buffer import Outgoing
from lib_common.redis_bus.publisher import Publisher, PublishLink
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink, Subscriber


class Sleeps:
    """Records each backoff delay and returns at once (after letting other tasks run)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


class FakePublishLink:
    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.fail_after = fail_after  # batches accepted before the connection "drops"
        self.batches = 0
        self.closed = False

    async def send(self, frames: Sequence[Outgoing]) -> None:
        await asyncio.sleep(0)
        if self.fail_after is not None and self.batches >= self.fail_after:
            raise BusUnavailable("connection reset")
        self.batches += 1
        self.sent.extend(frames)

    async def close(self) -> None:
        self.closed = True

    def seqs(self) -> list[int]:
        return [int(o.quote_id.rpartition(b":")[2]) for o in self.sent]


class FakePubSubLink:
    def __init__(self) -> None:
        self.commands: list[tuple[str, list[str]]] = []
        self.inbox: asyncio.Queue[BusMessage | None] = asyncio.Queue()
        self.closed = False

    async def subscribe(self, channels: list[str]) -> None:
        self.commands.append(("subscribe", channels))

    async def unsubscribe(self, channels: list[str]) -> None:
        self.commands.append(("unsubscribe", channels))

    async def psubscribe(self, patterns: list[str]) -> None:
        self.commands.append(("psubscribe", patterns))

    async def punsubscribe(self, patterns: list[str]) -> None:
        self.commands.append(("punsubscribe", patterns))

    async def next_messages(self) -> list[BusMessage]:
        message = await self.inbox.get()
        if message is None:
            raise BusUnavailable("connection closed by server")
        return [message]

    def drop(self) -> None:
        self.inbox.put_nowait(None)

    async def close(self) -> None:
        self.closed = True


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def frames(n: int, start: int = 0) -> list[Frame]:
    return [Frame.quote(Quote("AAPL", i, i, price=float(i)), i) for i in range(start, start + n)]


@pytest.mark.asyncio
async def test_offer_is_synchronous_and_publishes_in_batches_with_quote_ids() -> None:
    link = FakePublishLink()

    async def connect() -> PublishLink:
        return link

    publisher = Publisher(connect, buffer=100, batch=4, epoch=b"e1", sleep=Sleeps())
    publisher.offer(frames(10))  # before the task runs: only buffered
    assert publisher.buffered == 10 and publisher.published == 0
    await publisher.start()
    await settle()
    assert [o.quote_id for o in link.sent] == [b"e1:%d" % i for i in range(10)]
    assert [o.payload for o in link.sent] == [f.payload for f in frames(10)]
    assert link.batches == 3 and publisher.published == 10 and publisher.dropped == 0
    assert publisher.connected and publisher.buffered == 0
    await publisher.stop()


@pytest.mark.asyncio
async def test_redis_away_backs_off_exponentially_then_resumes_and_counts_drops() -> None:
    sleeps = Sleeps()
    attempts: list[int] = []
    link = FakePublishLink()

    async def connect() -> PublishLink:
        attempts.append(1)
        if len(attempts) <= 4:
            raise BusUnavailable("connection refused")
        return link

    backoff = Backoff(base_s=0.1, cap_s=0.5, jitter=0.0)
    publisher = Publisher(connect, buffer=5, batch=100, backoff=backoff, sleep=sleeps)
    await publisher.start()
    await settle()
    publisher.offer(frames(8))  # while away, no spool: the 3 oldest make room
    await settle(50)
    assert sleeps.delays == [0.1, 0.2, 0.4, 0.5]
    assert link.seqs() == [3, 4, 5, 6, 7]
    assert publisher.dropped == 3 and publisher.errors == 4
    assert publisher.connects == 1 and publisher.reconnects == 0
    await publisher.stop()


@pytest.mark.asyncio
async def test_the_batch_in_flight_when_the_connection_drops_is_sent_again_first() -> None:
    sleeps = Sleeps()
    links = [FakePublishLink(fail_after=1), FakePublishLink()]

    async def connect() -> PublishLink:
        return links.pop(0) if len(links) > 1 else links[0]

    first = links[0]
    publisher = Publisher(connect, buffer=100, batch=2, backoff=Backoff(0.1, 1.0, 0.0), sleep=sleeps)
    await publisher.start()
    publisher.offer(frames(4))
    await settle(50)
    # first batch delivered; the second was in flight when the connection dropped: sent again.
    assert first.seqs() == [0, 1] and first.closed
    assert links[0].seqs() == [2, 3] and publisher.reconnects == 1 and publisher.resent == 2
    assert sleeps.delays == [0.1]
    publisher.offer(frames(2, start=10))
    await settle()
    assert links[0].seqs() == [2, 3, 4, 5]
    figures = publisher.figures()
    assert figures["published"] == 6 and figures["dropped"] == 0 and figures["connected"] is True
    await publisher.stop()
    assert publisher.figures()["state"] == "idle"


class Links:
    def __init__(self, refusals: int = 0) -> None:
        self.made: list[FakePubSubLink] = []
        self.refusals = refusals

    async def __call__(self) -> PubSubLink:
        if self.refusals:
            self.refusals -= 1
            raise BusUnavailable("connection refused")
        link = FakePubSubLink()
        self.made.append(link)
        return link


@pytest.mark.asyncio
async def test_subscriptions_follow_wanted_set_and_only_differences_are_sent() -> None:
    links = Links()
    got: list[BusMessage] = []
    sub = Subscriber(links, got.extend, sleep=Sleeps())
    sub.subscribe(["a", "b"])
    await sub.start()
    await settle()
    link = links.made[0]
    assert link.commands == [("subscribe", ["a", "b"])]
    sub.subscribe(["b", "c"])
    sub.unsubscribe(["a"])
    sub.psubscribe(["x:*"])
    await settle()
    assert link.commands[1:] == [("subscribe", ["c"]), ("unsubscribe", ["a"]), ("psubscribe", ["x:*"])]
    link.inbox.put_nowait(BusMessage("c", b"1"))
    await settle()
    assert got == [BusMessage("c", b"1")] and sub.messages == 1
    await sub.stop()


@pytest.mark.asyncio
async def test_reconnect_resubscribes_everything_after_backoff() -> None:
    links = Links()
    sleeps = Sleeps()
    sub = Subscriber(links, lambda m: None, backoff=Backoff(0.1, 1.0, 0.0), sleep=sleeps)
    sub.subscribe(["a", "b"])
    sub.psubscribe(["p*"])
    await sub.start()
    await settle()
    links.refusals = 2
    sub.unsubscribe(["b"])  # changed while the link drops: the next connection starts from what is wanted
    links.made[0].drop()
    await settle(50)
    assert sleeps.delays == [0.1, 0.2, 0.4]  # the drop, then two refusals: growing until a connect
    assert len(links.made) == 2 and links.made[0].closed
    assert links.made[1].commands == [("subscribe", ["a"]), ("psubscribe", ["p*"])]
    assert sub.figures()["reconnects"] == 1 and sub.errors == 3
    await sub.stop()


@pytest.mark.asyncio
async def test_redis_feed_tracks_symbols_and_decodes_quotes_keeping_ingest_stamps() -> None:
    links = Links()
    quotes: list[Quote] = []
    feed = RedisFeed(lambda qs: quotes.extend(qs), links, prefix="t:")
    feed.subscribe(["AAPL", "MSFT"])
    await feed.start()
    await settle()
    feed.unsubscribe(["MSFT"])
    await settle()
    assert links.made[0].commands == [
        ("subscribe", ["t:quote:AAPL", "t:quote:MSFT"]),
        ("unsubscribe", ["t:quote:MSFT"]),
    ]
    assert feed.subscribed == {"AAPL"}
    frame = Frame.quote(Quote("AAPL", 100, 150, price=1.5, currency="USD", extra=(("rating", "fear"),)), 160)
    inbox = links.made[0].inbox
    inbox.put_nowait(BusMessage("t:quote:AAPL", frame.payload))
    inbox.put_nowait(BusMessage("t:quote:AAPL", b"not json"))
    inbox.put_nowait(BusMessage("t:quote:AAPL", b'{"type":"quote","symbol":"AAPL"}'))
    inbox.put_nowait(BusMessage("t:quote:MSFT", frame.payload))
    await settle()
    assert quotes == [Quote("AAPL", 100, 150, price=1.5, currency="USD", extra=(("rating", "fear"),))]
    assert Frame.quote(quotes[0], 160).payload == frame.payload  # re-encodes to the same bytes
    assert feed.malformed == {"not_json": 1, "bad_field": 1, "wrong_channel": 1}
    assert feed.state == "connected"
    await feed.stop()
