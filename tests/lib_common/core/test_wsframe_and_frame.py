"""Pre-built frames, checked with the websockets library's own frame parser."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Close, Opcode
from websockets.frames import Frame as WsFrame
from websockets.streams import StreamReader

from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.core.wsframe import close_frame, text_frame, text_header


def parse(data: bytes) -> WsFrame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = WsFrame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: WsFrame = done.value
        return frame
    raise AssertionError("frame incomplete")


@given(st.binary(max_size=70_000))
def test_text_frame_round_trips_through_websockets_parser(payload: bytes) -> None:
    frame = parse(text_frame(payload))
    assert frame.opcode is Opcode.TEXT and frame.fin and bytes(frame.data) == payload
    assert not (frame.rsv1 or frame.rsv2 or frame.rsv3)
    assert text_header(len(payload)) + payload == text_frame(payload)


def test_close_frame() -> None:
    frame = parse(close_frame(1013, "slow consumer"))
    assert Close.parse(frame.data) == Close(1013, "slow consumer")


def test_quote_frame_leaves_out_absent_fields() -> None:
    q = Quote(symbol="AAPL", ts_upstream=1, ts_library_in=2, price=1.5, market_hours="pre")
    frame = Frame.quote(q, ts_library_out=3)
    body = json.loads(frame.payload)
    assert body == {
        "type": "quote",
        "symbol": "AAPL",
        "price": 1.5,
        "market_hours": "pre",
        "ts_upstream": 1,
        "ts_library_in": 2,
        "ts_library_out": 3,
    }
    assert frame.wire == text_frame(frame.payload) and frame.size == len(frame.wire)
