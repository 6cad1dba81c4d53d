from __future__ import annotations

import json
from collections import Counter

import pytest

from lib_common.core.frame import Frame
from lib_common.ingestors.replay.records import FAST, frames, parse_lines
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
