"""StreamGroup and RespConnection against the real Redis: the consumer-group commands, and
Redis errors arriving as the bus's own, decided by the reply's code."""

from __future__ import annotations

import uuid

import pytest

from lib_common.errors import BusReplyError, BusUnavailable
from lib_common.redis_bus.connection import RespConnection
from lib_common.redis_bus.stream import StreamGroup, parse_entries

URL = "redis://127.0.0.1:6379/0"


@pytest.mark.asyncio
async def test_a_group_reads_acks_claims_and_reports() -> None:
    stream = f"test-stream-{uuid.uuid4().hex[:8]}:quotes"
    admin = RespConnection(URL)
    group = StreamGroup(URL, stream, "g", "c1", timeout_s=5)
    other = StreamGroup(URL, stream, "g", "c2", timeout_s=5)
    try:
        assert await group.ensure_group() is True  # MKSTREAM: the stream did not exist
        assert await group.ensure_group() is False  # BUSYGROUP, by its code
        for n in range(3):
            await admin.execute("XADD", stream, "*", "symbol", "AAPL", "frame", f'{{"n":{n}}}')
        raw = await group.read(">", 2, block_ms=10)
        entries, empty = parse_entries(raw)
        assert [e.frame for e in entries] == [b'{"n":0}', b'{"n":1}'] and empty == []
        assert await group.figures() == (1, 2, 3)  # lag, pending, length
        assert await group.read("0", 10, None) == raw  # the PEL
        await group.ack([raw[0][0]])
        assert await other.claim_idle(0, 10) == 1  # c1's other pending entry moves to c2
        assert await group.read("0", 10, None) == []
        assert await group.read(">", 10, block_ms=10) != [] and await group.read(">", 10, block_ms=10) == []
    finally:
        await admin.execute("DEL", stream)
        for connection in (group, other, admin):
            await connection.close()


@pytest.mark.asyncio
async def test_a_lost_group_is_nogroup_by_code_and_the_connection_stays_usable() -> None:
    stream = f"test-stream-{uuid.uuid4().hex[:8]}:quotes"
    group = StreamGroup(URL, stream, "g", "c1", timeout_s=5)
    try:
        with pytest.raises(BusReplyError) as caught:
            await group.read(">", 1, block_ms=None)
        assert caught.value.code == "NOGROUP" and "refused: NOGROUP" in str(caught.value)
        assert await group.ensure_group() is True
        assert await group.read(">", 1, block_ms=1) == []
    finally:
        connection = RespConnection(URL)
        await connection.execute("DEL", stream)
        await connection.close()
        await group.close()


@pytest.mark.asyncio
async def test_connection_errors_are_bus_unavailable_and_reopen() -> None:
    with pytest.raises(BusUnavailable, match=r"redis at redis://127\.0\.0\.1:9/0"):
        await RespConnection("redis://127.0.0.1:9/0", connect_timeout_s=1).execute("PING")
    connection = RespConnection(URL)
    try:
        assert await connection.execute("PING") == b"PONG"
        with pytest.raises(BusReplyError) as caught:
            await connection.execute("NOSUCHCOMMAND")
        assert caught.value.code == "ERR"
        assert await connection.execute("PING") == b"PONG"  # still in step after an error reply
        with pytest.raises(BusReplyError) as wrong:
            await connection.execute("AUTH", "nobody", "wrong")
        assert wrong.value.code in ("WRONGPASS", "ERR")
    finally:
        await connection.close()


def test_entries_keep_the_quote_id_in_any_field_order_and_older_entries_have_none() -> None:
    raw = [
        [b"1-0", [b"symbol", b"AAPL", b"frame", b"{}", b"quote_id", b"ab:7"]],  # the publisher's layout
        [b"1-1", [b"quote_id", b"ab:8", b"frame", b"{}", b"symbol", b"MSFT"]],  # another writer's order
        [b"1-2", [b"symbol", b"AAPL", b"frame", b"{}"]],  # an older publisher: no quote id
        [b"1-3", None],  # trimmed while pending
    ]
    entries, empty = parse_entries(raw)
    assert [(e.id, e.symbol, e.quote_id) for e in entries] == [
        ("1-0", "AAPL", "ab:7"),
        ("1-1", "MSFT", "ab:8"),
        ("1-2", "AAPL", None),
    ]
    assert empty == ["1-3"]
