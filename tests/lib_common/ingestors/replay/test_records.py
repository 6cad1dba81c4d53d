from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_common.core.frame import Frame
from lib_common.core.wsframe import text_frame
from lib_common.errors import BusMessageError
from lib_common.ingestors.replay.records import FAST, decoded, frames, parse_lines
from lib_common.redis_bus.format import decode_quote_frame
from tests.lib_common.ingestors.replay.recording import log_line, quote

Q = quote("AAPL", 1_763_735_400_000_000, price=189.25)


def replayed(line: bytes, received: int = 5, out: int = 7, shift: int = 0) -> dict[str, object]:
    bad: Counter[str] = Counter()
    records = parse_lines([line.rstrip(b"\n")], bad)
    assert not bad, bad
    (frame,) = frames(records, received, out, {records[0][0]}, shift)
    assert frame.wire.endswith(frame.payload)
    body: dict[str, object] = json.loads(frame.payload)
    assert (frame.ts_upstream, frame.ts_library_in, frame.ts_library_out) == (
        body["ts_upstream"],
        body["ts_library_in"],
        body["ts_library_out"],
    )
    return body


def test_a_server_log_line_becomes_the_frame_restamped() -> None:
    line = log_line(Q)
    assert FAST.fullmatch(line.rstrip(b"\n"))  # restream's own layout takes the fast path
    body = replayed(line, received=5, out=7)
    expected = json.loads(Frame.quote(Q, 0).payload)
    assert body == {**expected, "ts_library_in": 5, "ts_library_out": 7}
    assert "stream_id" not in body and "quote_id" not in body


@pytest.mark.parametrize(
    "line",
    [
        # another layout: spaces, another order, an extra field (a Fear & Greed rating)
        b'{"type": "quote", "ts_upstream": 1000, "symbol": "FEAR-GREED", "price": 41, "rating": "fear",'
        b' "ts_library_in": 1900}',
        # non-ASCII in a string, and an escape
        '{"type":"quote","symbol":"ÄPFEL","exchange":"X\\u00e9","ts_upstream":1000,"ts_library_in":1900}'.encode(),
        # numbers past the fast path's bounds, still finite
        b'{"type":"quote","symbol":"BIG","price":123456789012345678901234.5,"ts_upstream":1000,"ts_library_in":1900}',
    ],
)
def test_other_layouts_mean_the_same_through_the_decoder(line: bytes) -> None:
    assert not FAST.fullmatch(line)
    body = replayed(line, received=5, out=7)
    decoded = decode_quote_frame(line)
    expected = json.loads(Frame.quote(decoded.quote, 0).payload)
    assert body == {**expected, "ts_library_in": 5, "ts_library_out": 7}


def test_a_looped_pass_moves_ts_upstream_only() -> None:
    body = replayed(log_line(Q), shift=86_400_000_000)
    assert body["ts_upstream"] == Q.ts_upstream + 86_400_000_000
    assert body["price"] == 189.25


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json", "not_json"),
        (b'{"type":"status","upstream":"idle"}', "not_quote"),
        (b"[1, 2]", "not_quote"),
        (b'{"type":"quote","symbol":"A","price":1e999,"ts_upstream":1,"ts_library_in":2}', "bad_field"),
        (b'{"type":"quote","symbol":"A","price":NaN,"ts_upstream":1,"ts_library_in":2}', "not_json"),
        # not JSON numbers, in restream's own layout otherwise: the fast path must refuse them too
        (b'{"type":"quote","symbol":"A","price":01.5,"ts_upstream":1,"ts_library_in":2}', "not_json"),
        (b'{"type":"quote","symbol":"A","price":1.,"ts_upstream":1,"ts_library_in":2}', "not_json"),
        (b'{"type":"quote","symbol":"A","day_volume":007,"ts_upstream":1,"ts_library_in":2}', "not_json"),
        (b'{"type":"quote","symbol":"A","ts_upstream":1,"ts_library_in":9223372036854775808}', "bad_field"),
        (b'{"type":"quote","symbol":"A","ts_upstream":99999999999999999999,"ts_library_in":2}', "bad_field"),
        (b'{"type":"quote","symbol":"A","market_hours":"lunch","ts_upstream":1,"ts_library_in":2}', "bad_field"),
        (b'{"type":"quote","symbol":"","ts_upstream":1,"ts_library_in":2}', "bad_field"),
        (b'{"type":"quote","symbol":"A","ts_upstream":1}', "bad_field"),
        (b'{"type":"quote","symbol":"A","extra":{"x":1},"ts_upstream":1,"ts_library_in":2}', "bad_field"),
        (b"[" * 100_000, "not_json"),
        (b'{"type":"quote","symbol":"A\xff","ts_upstream":1,"ts_library_in":2}', "not_json"),
    ],
)
def test_bad_lines_are_counted_by_reason_and_skipped(line: bytes, reason: str) -> None:
    bad: Counter[str] = Counter()
    good = log_line(Q).rstrip(b"\n")
    records = parse_lines([good, line, b"", good], bad)
    assert len(records) == 2 and bad == {reason: 1}


def test_duplicate_keys_never_take_the_fast_path() -> None:
    line = b'{"type":"quote","symbol":"A","price":1,"price":2,"ts_upstream":1,"ts_library_in":2}'
    assert not FAST.fullmatch(line)
    assert replayed(line)["price"] == 2  # as any JSON reader (and the bus's decoder) reads it


def test_only_the_wanted_symbols_become_frames() -> None:
    bad: Counter[str] = Counter()
    records = parse_lines([log_line(quote(s, 1000 + i)).rstrip(b"\n") for i, s in enumerate("ABC")], bad)
    assert [f.symbol for f in frames(records, [1, 2, 3], 9, {"A", "C"})] == ["A", "C"]
    assert [f.ts_library_in for f in frames(records, [1, 2, 3], 9, {"A", "C"})] == [1, 3]


# Property: for any line, the fast path means what the bus's decoder reads, or is not taken.
# Lines in the exact layout, each value mostly of the kind restream writes (so that a good share
# of lines is within the fast path) and sometimes of the kinds it never does: non-ASCII,
# escapes, leading zeros, "1.", NaN, huge numbers, three-digit exponents, "-0", other types.
def _mostly(usual: st.SearchStrategy[bytes], odd: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.integers(0, 9).flatmap(lambda i: odd if i == 0 else usual)


_numbers = _mostly(
    st.one_of(
        st.integers(-(10**17), 10**17).map(lambda n: b"%d" % n),
        st.floats(-1e20, 1e20).map(lambda x: repr(x).encode()),
        st.from_regex(rb"-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?", fullmatch=True),
    ),
    st.one_of(
        st.from_regex(rb"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
        st.from_regex(rb"-?[1-9][0-9]{0,2}[eE][-+]?[3-9][0-9]{2}", fullmatch=True),  # past a float's range
        st.from_regex(rb"[-+]?[0-9]{0,3}(\.[0-9]{0,2})?([eE][-+]?[0-9]?)?", fullmatch=True),  # 01, 1., .5, 1e
        st.from_regex(rb"-?0[0-9]{1,3}(\.[0-9]{1,3})?", fullmatch=True),  # leading zeros
        st.sampled_from([b"-0", b"01", b"-01.5", b"1e999", b"NaN", b"-Infinity", b"true", b"null", b'"1"', b"[]"]),
    ),
)
_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='"\\')
_strings = _mostly(
    st.text(_PRINTABLE, max_size=12).map(lambda s: b'"%s"' % s.encode()),
    st.one_of(
        st.text(max_size=12).map(lambda s: json.dumps(s, ensure_ascii=False).encode()),
        st.text(max_size=12).map(lambda s: json.dumps(s).encode()),
        st.binary(max_size=8).map(lambda b: b'"' + b + b'"'),
        st.sampled_from([b"1", b"null", b"{}"]),
    ),
)
_sessions = _mostly(
    st.sampled_from([b'"pre"', b'"regular"', b'"post"', b'"extended"', b'"overnight"', b'"closed"']),
    st.sampled_from([b'"lunch"', b'"Regular"', b'""', b"1", b"null"]),
)
_stamps = _mostly(
    st.integers(-(10**18) + 1, 10**18 - 1).map(lambda n: b"%d" % n),
    st.one_of(
        st.integers(2**63 - 10, 10**20).map(lambda n: b"%d" % n),  # past 64 bits, or not by much
        st.integers(-(10**20), -(2**63) + 10).map(lambda n: b"%d" % n),
        st.sampled_from([b"-0", b"00", b"01", b"1.5", b"1e3", b'"1"', b"null"]),
    ),
)
_OPTIONAL_FIELDS = (
    ("price", _numbers),
    ("change", _numbers),
    ("change_percent", _numbers),
    ("day_volume", _mostly(_stamps, _numbers)),
    ("market_hours", _sessions),
    ("currency", _strings),
    ("exchange", _strings),
)


@st.composite
def layout_lines(draw: st.DrawFn) -> bytes:
    parts = [b'"stream_id":' + draw(_strings), b'"quote_id":' + draw(_strings)] if draw(st.booleans()) else []
    parts += [b'"type":"quote"', b'"symbol":' + draw(_mostly(_strings.filter(lambda s: s != b'""'), _strings))]
    parts += [b'"%s":%b' % (name.encode(), draw(values)) for name, values in _OPTIONAL_FIELDS if draw(st.booleans())]
    parts += [b'"ts_upstream":' + draw(_stamps), b'"ts_library_in":' + draw(_stamps)]
    if draw(st.booleans()):
        parts.append(b'"ts_library_out":' + draw(_stamps))
    return b"{" + b",".join(parts) + b"}"


@settings(max_examples=2000)
@given(layout_lines())
def test_the_fast_path_means_what_the_decoder_reads(line: bytes) -> None:
    bad: Counter[str] = Counter()
    records = parse_lines([line], bad)
    try:
        safe = [decoded(line)]
    except BusMessageError as exc:
        assert records == [] and bad == {exc.reason: 1}  # refused, by either path, for the same reason
        return
    assert len(records) == 1 and not bad
    assert records[0][:3] == safe[0][:3]  # symbol, ts_upstream, the recorded receipt
    for shift in (0, 86_400_000_000):
        (fast,) = frames(records, 5, 7, {records[0][0]}, shift)
        (slow,) = frames(safe, 5, 7, {safe[0][0]}, shift)
        assert json.loads(fast.payload) == json.loads(slow.payload)
        stamps = (fast.symbol, fast.ts_upstream, fast.ts_library_in, fast.ts_library_out)
        assert stamps == (slow.symbol, slow.ts_upstream, slow.ts_library_in, slow.ts_library_out)
        assert fast.wire == text_frame(fast.payload)


_printable = st.text(_PRINTABLE, min_size=1)


@settings(max_examples=300)
@given(
    symbol=_printable,
    ts=st.integers(0, 10**17),  # µs since the epoch: 16 digits for centuries
    price=st.floats(allow_nan=False, allow_infinity=False) | st.none(),
    volume=st.integers(0, 10**17) | st.none(),
    exchange=_printable | st.none(),
)
def test_restream_s_own_frames_take_the_fast_path_unchanged(
    symbol: str, ts: int, price: float | None, volume: int | None, exchange: str | None
) -> None:
    q = replace(quote(symbol, ts), price=price, exchange=exchange, day_volume=volume)
    bad: Counter[str] = Counter()
    records = parse_lines([log_line(q).rstrip(b"\n")], bad)
    if price is None or price == 0 or 1e-99 < abs(price) < 1e99:  # a two-digit exponent at most
        assert type(records[0][3]) is bytes
    (frame,) = frames(records, 5, 7, {symbol})
    assert frame.payload == Frame.quote(replace(q, ts_library_in=5), 7).payload  # the very bytes restream sent
