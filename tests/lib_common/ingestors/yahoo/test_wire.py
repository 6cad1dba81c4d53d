"""Our PricingData decoder (upb, from our pricing.proto) against an independent encoder: yfinance's
generated module, and betterproto's class that server_dummy encodes with."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import struct

import betterproto
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yfinance import pricing_pb2  # type: ignore[import-untyped]

from lib_common.ingestors.yahoo.pricing_pb import PricingData
from lib_common.ingestors.yahoo.wire import DecodeError, decode_pricing

_F32 = struct.Struct("<f")
SINT64 = st.integers(-(2**63), 2**63 - 1)
INT32 = st.integers(-(2**31), 2**31 - 1)
FLOAT32 = st.floats(width=32, allow_nan=False)
DOUBLE = st.floats(allow_nan=False)
TEXT = st.text(max_size=20)

_BY_KIND = {9: TEXT, 2: FLOAT32, 1: DOUBLE, 18: SINT64, 5: INT32}  # FieldDescriptor.TYPE_*


def _fields() -> st.SearchStrategy[dict[str, object]]:
    fields = pricing_pb2.PricingData.DESCRIPTOR.fields
    return st.fixed_dictionaries({}, optional={f.name: _BY_KIND[f.type] for f in fields})


def google_encode(values: dict[str, object]) -> bytes:
    message = pricing_pb2.PricingData(**values)
    data: bytes = message.SerializeToString()
    return data


def is_default(value: object) -> bool:
    """proto3 leaves default values off the wire; -0.0 is not the default (its bits differ)."""
    if isinstance(value, float):
        return value == 0.0 and math.copysign(1.0, value) > 0
    return value in ("", 0)


# google.protobuf keeps .proto names (ours too); betterproto makes Python names (vol_24hr →
# vol_24_hr). Match them by field number, through betterproto's public field metadata.
_BY_NUMBER = {betterproto.FieldMetadata.get(f).number: f.name for f in dataclasses.fields(PricingData)}
_BETTERPROTO = {f.name: _BY_NUMBER[f.number] for f in pricing_pb2.PricingData.DESCRIPTOR.fields}


def present(values: dict[str, object]) -> dict[str, object]:
    """What proto3 puts on the wire (every field not at its default)."""
    return {k: v for k, v in values.items() if not is_default(v)}


@settings(max_examples=400, deadline=None)
@given(_fields())
def test_decodes_what_google_protobuf_encodes(values: dict[str, object]) -> None:
    decoded = decode_pricing(google_encode(values))
    assert decoded == present(values)


@settings(max_examples=200, deadline=None)
@given(_fields())
def test_betterproto_encoding_decodes_the_same(values: dict[str, object]) -> None:
    # betterproto's `optional` fields have explicit presence: it also sends a set default.
    theirs = {_BETTERPROTO[k]: v for k, v in values.items()}
    decoded = decode_pricing(bytes(PricingData(**theirs)))  # type: ignore[arg-type]
    assert {k: v for k, v in decoded.items() if not is_default(v)} == decode_pricing(google_encode(values))


def test_absent_fields_stay_absent() -> None:
    data = google_encode({"id": "AAPL", "price": 189.25, "market_hours": 0, "time": 1736509140000})
    assert decode_pricing(data) == {"id": "AAPL", "price": 189.25, "time": 1736509140000}


def test_options_type_is_zigzag_like_yfinance() -> None:
    assert decode_pricing(google_encode({"options_type": -1})) == {"options_type": -1}


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@pytest.mark.parametrize(
    "unknown",
    [
        varint(34 << 3 | 0) + varint(150),
        varint(40 << 3 | 2) + varint(3) + b"abc",
        varint(50 << 3 | 5) + b"\x00\x00\x80\x3f",
        varint(60 << 3 | 1) + bytes(8),
    ],
    ids=["varint", "length-delimited", "fixed32", "fixed64"],
)
def test_unknown_fields_are_skipped(unknown: bytes) -> None:
    data = google_encode({"id": "AAPL", "price": 1.5}) + unknown + google_encode({"time": 5})
    assert decode_pricing(data) == {"id": "AAPL", "price": 1.5, "time": 5}


def test_known_field_with_wrong_wire_type_is_ignored_as_unknown() -> None:
    # What the protobuf runtimes do (upb, C++): the field is kept aside as unknown, not misread.
    assert decode_pricing(bytes([2 << 3 | 0, 1]) + google_encode({"id": "AAPL"})) == {"id": "AAPL"}


def test_a_string_that_is_not_utf8_is_an_error() -> None:
    with pytest.raises(DecodeError, match="not a PricingData message"):
        decode_pricing(bytes([1 << 3 | 2, 2, 0xFF, 0xFE]))


def test_truncated_message_is_an_error() -> None:
    data = google_encode({"id": "AAPL", "short_name": "Apple Inc."})
    with pytest.raises(DecodeError, match="not a PricingData message"):
        decode_pricing(data[:-3])


@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_pricing(data)


def test_float32_values_are_exact() -> None:
    value = _F32.unpack(_F32.pack(0.64))[0]
    assert decode_pricing(google_encode({"change_percent": 0.64})) == {"change_percent": value}
