"""The RESP2 reader, fed whole replies and the same replies cut at every byte."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.redis_bus.resp import INCOMPLETE, ProtocolViolation, ReplyError, RespReader
from servers.durable.stream_reader import entries_of

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
    reader.feed(b":42\r\n+OK\r\n-NOGROUP no such group\r\n$-1\r\n*0\r\n*-1\r\n")
    assert reader.reply() == 42 and reader.reply() == b"OK"
    error = reader.reply()
    assert isinstance(error, ReplyError) and str(error) == "NOGROUP no such group"
    assert reader.reply() is None and reader.reply() == [] and reader.reply() is None
    assert reader.reply() is INCOMPLETE
    assert entries_of(None) == []


def test_not_resp() -> None:
    reader = RespReader()
    reader.feed(b"?1\r\n")
    with pytest.raises(ProtocolViolation, match="Protocol error"):
        reader.reply()


def encode(value: object) -> bytes:
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    assert isinstance(value, list)
    return b"*%d\r\n" % len(value) + b"".join(encode(v) for v in value)


nested = st.recursive(st.binary(max_size=20), lambda inner: st.lists(inner, max_size=4), max_leaves=20)


@given(nested, st.lists(st.integers(min_value=1, max_value=8), max_size=6))
def test_round_trip_in_pieces(value: object, cuts: list[int]) -> None:
    wire = encode(value)
    chunks, rest = [], wire
    for n in cuts:
        if len(rest) > n:
            chunks.append(rest[:n])
            rest = rest[n:]
    reader = RespReader()
    got = INCOMPLETE
    for chunk in [*chunks, rest]:
        reader.feed(chunk)
        got = reader.reply()
    assert got == value
