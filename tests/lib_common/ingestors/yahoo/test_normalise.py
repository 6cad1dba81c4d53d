from __future__ import annotations

import base64
import contextlib
import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yfinance import pricing_pb2  # type: ignore[import-untyped]

from lib_common.ingestors.yahoo.normalise import FrameError, decode_frame, frame_payload, shortest_f32

_F32 = struct.Struct("<f")


def encode(**values: object) -> bytes:
    data: bytes = pricing_pb2.PricingData(**values).SerializeToString()
    return data


def envelope(data: bytes) -> str:
    return json.dumps({"type": "pricing", "message": base64.b64encode(data).decode()})


def test_envelope_and_bare_base64_both_decode() -> None:
    data = encode(id="AAPL", time=1)
    b64 = base64.b64encode(data).decode()
    assert frame_payload(envelope(data)) == data
    assert frame_payload('{"type":"pricing","message":"' + b64 + '"}') == data
    assert frame_payload('{"message": "' + b64.replace("/", "\\/") + '", "type": "pricing"}') == data
    assert frame_payload(base64.b64encode(data).decode()) == data
    assert frame_payload(envelope(data).encode()) == data


def test_quote_from_full_frame() -> None:
    frame = envelope(
        encode(
            id="aapl",
            price=189.25,
            time=1736509140000,
            currency="USD",
            exchange="NMS",
            market_hours=2,
            change=1.2,
            change_percent=0.64,
            day_volume=51234567,
        )
    )
    quote = decode_frame(frame, ts_library_in=1736509140000123)
    assert quote.symbol == "AAPL"
    assert quote.ts_upstream == 1736509140000000 and quote.ts_library_in == 1736509140000123
    assert (quote.price, quote.change, quote.change_percent) == (189.25, 1.2, 0.64)
    assert (quote.day_volume, quote.market_hours, quote.currency, quote.exchange) == (51234567, "post", "USD", "NMS")


def test_absent_fields_are_never_invented() -> None:
    quote = decode_frame(envelope(encode(id="AAPL", time=5)), ts_library_in=9)
    assert (quote.price, quote.change, quote.market_hours, quote.currency, quote.day_volume) == (None,) * 5


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ("{not json", "bad_json"),
        ('{"type": "pricing"}', "bad_envelope"),
        ("[1, 2]", "bad_base64"),
        ('{"type": "pricing", "message": "!!!"}', "bad_base64"),
        (envelope(b"\x12\x01"), "bad_protobuf"),
        (envelope(encode(time=5)), "no_id"),
        (envelope(encode(id="AAPL")), "no_time"),
    ],
)
def test_bad_frames_say_what_is_wrong(frame: str, kind: str) -> None:
    with pytest.raises(FrameError) as info:
        decode_frame(frame, 0)
    assert info.value.kind == kind


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_shortest_f32_round_trips_and_is_short(value: float) -> None:
    short = shortest_f32(value)
    assert _F32.unpack(_F32.pack(short))[0] == value
    assert float(f"{short:.9g}") == short  # at most 9 significant digits, as float32 needs


@given(st.text(max_size=100) | st.binary(max_size=100).map(lambda b: base64.b64encode(b).decode()))
def test_any_frame_decodes_or_raises_frame_error(frame: str) -> None:
    with contextlib.suppress(FrameError):
        decode_frame(frame, 0)
