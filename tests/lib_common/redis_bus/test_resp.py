"""The RESP2 codec (fed whole replies and the same replies cut anywhere), and the raw publish
and pub/sub links against the real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.errors import BusReplyError, BusUnavailable
from lib_common.redis_bus.buffer import Outgoing
from lib_common.redis_bus.connection import RespConnection
from lib_common.redis_bus.links import RespPublishLink, RespPubSubLink
from lib_common.redis_bus.resp import INCOMPLETE, ProtocolViolation, ReplyError, ReplyReader, RespReader, command
from lib_common.redis_bus.stream import entries_of, parse_entries
from lib_common.redis_bus.subscriber import BusMessage


def test_command_is_an_array_of_bulk_strings() -> None:
    assert command(b"PUBLISH", "ch", b"x\r\ny") == b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$4\r\nx\r\ny\r\n"
    assert command("SELECT", 2) == b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"


@given(
    st.lists(st.one_of(st.binary(max_size=40), st.integers(-5, 10**12), st.just("OK"), st.just("-ERR x")), max_size=20),
    st.integers(1, 7),
)
def test_replies_split_anywhere_come_out_whole(replies: list[object], chunk: int) -> None:
    wire = b""
    expected: list[object] = []
    for r in replies:
        if isinstance(r, bytes):
            wire += b"$%d\r\n%s\r\n" % (len(r), r)
            expected.append(r)
        elif isinstance(r, int):
            wire += b":%d\r\n" % r
            expected.append(r)
        elif r == "OK":
            wire += b"+OK\r\n"
            expected.append(b"OK")
        else:
            wire += b"-ERR x\r\n"
            expected.append(ReplyError("ERR x"))
    reader = ReplyReader()
    got: list[object] = []
    for i in range(0, len(wire), chunk):
        reader.feed(wire[i : i + chunk])
        got.extend(reader.take())
    assert got == expected


def test_unknown_reply_type_is_a_protocol_violation() -> None:
    with pytest.raises(ProtocolViolation):
        ReplyReader().feed(b"!oops\r\n")


@pytest.mark.parametrize(
    "reply",
    [
        b"%1\r\n%1\r\n+a\r\n+b\r\n+c\r\n",  # issue 13 #13: a RESP3 map keyed by a map
        b"*1\r\n%1\r\n*1\r\n+a\r\n+b\r\n",  # ... by an array, inside an array
    ],
)
def test_a_reply_hiredis_cannot_build_is_a_protocol_violation(reply: bytes) -> None:
    with pytest.raises(ProtocolViolation, match="a reply that cannot be built"):
        ReplyReader().feed(reply)


@pytest.mark.parametrize("cut", [None, 3, 7, 11])
@pytest.mark.parametrize(
    "reply",
    [
        b"~211456789\r\n+a\r\n",  # the fuzzer's find: hiredis allocated 211M slots, 1.5 s
        b"*4294967295\r\n",  # 2**32 - 1 slots (34 GB): a MemoryError out of hiredis before
        b"+OK\r\n%1000000\r\n",  # after a reply, and a map
    ],
)
def test_an_aggregate_of_a_million_elements_or_more_is_refused_before_hiredis(reply: bytes, cut: int | None) -> None:
    reader = ReplyReader()
    with pytest.raises(ProtocolViolation, match="a million elements or more"):
        if cut is None:
            reader.feed(reply)
        else:  # the header cut between two reads is seen all the same
            reader.feed(reply[:cut])
            reader.feed(reply[cut:])


def test_large_replies_of_our_own_size_pass() -> None:
    reader = ReplyReader()
    reader.feed(b"*999999\r\n" + b":1\r\n" * 999_999)
    assert len(reader.take()[0]) == 999_999  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_server_sending_an_unbuildable_reply_is_unavailable_and_the_next_call_reconnects() -> None:
    answers = [b"%1\r\n%1\r\n+a\r\n+b\r\n+c\r\n", b"+PONG\r\n"]
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        answer = answers.pop(0)
        while await reader.read(1 << 16):  # the hello PING, then the command: one answer each
            writer.write(b"+PONG\r\n" if answer is None else answer)
            answer = None
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = RespConnection(f"redis://127.0.0.1:{port}/0", timeout_s=2)
    try:
        with pytest.raises(BusUnavailable, match="a reply that cannot be built"):
            await conn.execute("PING")
        assert not conn.is_open
        assert await conn.execute("PING") == b"PONG"
        assert connections == 2
    finally:
        await conn.close()
        server.close()
        await server.wait_closed()


XREADGROUP = (
    b"*1\r\n*2\r\n$7\r\nrsdev:q\r\n*2\r\n"
    b'*2\r\n$3\r\n1-0\r\n*4\r\n$6\r\nsymbol\r\n$4\r\nAAPL\r\n$5\r\nframe\r\n$10\r\n{"a":"\r\n"}\r\n'
    b"*2\r\n$3\r\n2-0\r\n*-1\r\n"
)


def read_all(chunks: list[bytes]) -> object:
    reader = RespReader()
    for chunk in chunks[:-1]:
        reader.feed(chunk)
        assert reader.reply() is INCOMPLETE
    reader.feed(chunks[-1])
    return reader.reply()


def test_an_xreadgroup_reply() -> None:
    reply = read_all([XREADGROUP])
    assert entries_of(reply) == [  # type: ignore[arg-type]
        [b"1-0", [b"symbol", b"AAPL", b"frame", b'{"a":"\r\n"}']],
        [b"2-0", None],
    ]


@pytest.mark.parametrize("cut", range(1, len(XREADGROUP)))
def test_any_split_reads_the_same(cut: int) -> None:
    assert read_all([XREADGROUP[:cut], XREADGROUP[cut:]]) == read_all([XREADGROUP])


def test_scalars_errors_and_nulls() -> None:
    reader = RespReader()
    reader.feed(b":42\r\n+OK\r\n-NOGROUP no such group\r\n-ERR\r\n$-1\r\n*0\r\n*-1\r\n")
    assert reader.reply() == 42 and reader.reply() == b"OK"
    error = reader.reply()
    assert isinstance(error, ReplyError) and str(error) == "NOGROUP no such group" and error.code == "NOGROUP"
    bare = reader.reply()
    assert isinstance(bare, ReplyError) and bare.code == "ERR"
    assert reader.reply() is None and reader.reply() == [] and reader.reply() is None
    assert reader.reply() is INCOMPLETE
    assert entries_of(None) == []


def encode(value: object) -> bytes:
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    assert isinstance(value, list)
    return b"*%d\r\n" % len(value) + b"".join(encode(v) for v in value)


nested = st.recursive(st.binary(max_size=20), lambda inner: st.lists(inner, max_size=4), max_leaves=20)


@given(nested, st.lists(st.integers(min_value=1, max_value=8), max_size=6))
def test_nested_replies_round_trip_in_pieces(value: object, cuts: list[int]) -> None:
    wire = encode(value)
    reader = ReplyReader()
    got: list[object] = []
    for n in cuts:
        if len(wire) > n:
            reader.feed(wire[:n])
            got.extend(reader.take())
            wire = wire[n:]
    reader.feed(wire)
    assert [*got, *reader.take()] == [value]


@pytest.mark.asyncio
async def test_publish_link_publishes_and_appends_to_the_stream() -> None:
    prefix = f"test-resp-{uuid.uuid4().hex[:8]}:"
    client = aioredis.from_url("redis://127.0.0.1:6379/0")
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(f"{prefix}quote:AAPL")
    link = await RespPublishLink.connect("redis://127.0.0.1:6379/0", prefix, 100)
    try:
        frame = Frame.quote(Quote("AAPL", 1, 2, price=1.5), 3)
        await link.send([Outgoing(b"e:0", "AAPL", frame.payload), Outgoing(b"e:1", "AAPL", frame.payload)])
        message = None
        for _ in range(20):  # the first reads may be the (ignored) subscribe confirmation
            message = await pubsub.get_message(timeout=0.2)
            if message is not None:
                break
        assert message is not None and message["data"] == frame.payload
        entries = await client.xrange(f"{prefix}quotes")
        assert [e[1] for e in entries] == [
            {b"symbol": b"AAPL", b"frame": frame.payload, b"quote_id": b"e:%d" % i} for i in range(2)
        ]
        # What the durable consumers make of them: the publisher's layout, quote ids kept.
        parsed, empty = parse_entries(
            [[raw_id, [v for kv in fields.items() for v in kv]] for raw_id, fields in entries]
        )
        assert [e.quote_id for e in parsed] == ["e:0", "e:1"] and not empty
    finally:
        await link.close()
        await client.delete(f"{prefix}quotes")
        await pubsub.aclose()
        await client.aclose()


@pytest.mark.asyncio
async def test_unreachable_redis_is_bus_unavailable() -> None:
    with pytest.raises(BusUnavailable, match=r"redis at redis://127\.0\.0\.1:9"):
        await RespPublishLink.connect("redis://127.0.0.1:9/0", "x:", 10)


@pytest.mark.asyncio
async def test_refused_command_is_reported() -> None:
    prefix = f"test-resp-{uuid.uuid4().hex[:8]}:"
    client = aioredis.from_url("redis://127.0.0.1:6379/0")
    await client.set(f"{prefix}quotes", "not a stream")
    link = await RespPublishLink.connect("redis://127.0.0.1:6379/0", prefix, 100)
    try:
        with pytest.raises(BusReplyError, match="refused: WRONGTYPE") as refused:
            await link.send([Outgoing(b"e:0", "AAPL", Frame.quote(Quote("AAPL", 1, 2), 3).payload)])
        assert refused.value.code == "WRONGTYPE"
    finally:
        await link.close()
        await client.delete(f"{prefix}quotes")
        await client.aclose()


@pytest.mark.asyncio
async def test_pubsub_link_hands_out_messages_in_batches_in_order() -> None:
    channel = f"test-resp-{uuid.uuid4().hex[:8]}:quote:AAPL"
    client = aioredis.from_url("redis://127.0.0.1:6379/0")
    link = await RespPubSubLink.connect("redis://127.0.0.1:6379/0")
    try:
        await link.subscribe([channel])
        while await client.pubsub_numsub(channel) != [(channel.encode(), 1)]:
            await asyncio.sleep(0.01)
        async with client.pipeline(transaction=False) as pipe:
            for n in range(200):
                pipe.publish(channel, b"%d" % n)
            await pipe.execute()
        batches: list[list[BusMessage]] = []
        while sum(map(len, batches)) < 200:
            batches.append(await asyncio.wait_for(link.next_messages(), 5))
        got = [m for batch in batches for m in batch]
        assert got == [BusMessage(channel, b"%d" % n) for n in range(200)]
        assert all(batches)  # never an empty batch
    finally:
        await link.close()
        await client.aclose()
