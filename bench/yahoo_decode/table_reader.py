"""The contender lib_common used before upb: a pure-Python, table-driven PricingData reader whose
field table comes from betterproto's generated class (through its public field metadata).

Kept here only so that bench/yahoo_decode/run.py measures it beside google.protobuf's upb
decoder in the same run; lib_common decodes with upb (ingestors/yahoo/wire.py).
"""

from __future__ import annotations

import dataclasses
import struct

import betterproto

from lib_common.core.quote import Quote
from lib_common.ingestors.yahoo.normalise import MARKET_HOURS, FrameError, shortest_f32
from lib_common.ingestors.yahoo.pricing_pb import PricingData

# Wire types (encoding guide, "Message Structure").
VARINT, I64, LEN, I32 = 0, 1, 2, 5

_WIRE_TYPE = {
    "string": LEN,
    "float": I32,
    "double": I64,
    "sint64": VARINT,
    "int32": VARINT,
    "int64": VARINT,
    "enum": VARINT,
}

_unpack_f = struct.Struct("<f").unpack_from
_unpack_d = struct.Struct("<d").unpack_from

# Value kinds, compared by identity in the hot loop.
STRING, SINT, FLOAT, DOUBLE, INT = "string", "sint", "float", "double", "int"
_KIND = {"string": STRING, "sint64": SINT, "float": FLOAT, "double": DOUBLE, "int32": INT, "int64": INT, "enum": INT}


class DecodeError(ValueError):
    """The bytes are not a PricingData message."""


def _field_table() -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Known fields by their whole tag (number << 3 | wire type), and names by number."""
    by_tag: dict[int, tuple[str, str]] = {}
    names: dict[int, str] = {}
    for field in dataclasses.fields(PricingData):
        name, meta = field.name, betterproto.FieldMetadata.get(field)
        by_tag[meta.number << 3 | _WIRE_TYPE[meta.proto_type]] = (name, _KIND[meta.proto_type])
        names[meta.number] = name
    return by_tag, names


BY_TAG, NAMES = _field_table()
# The same, as a list indexed by tag: cheaper than a dict lookup in the loop.
_TAGS: list[tuple[str, str] | None] = [BY_TAG.get(tag) for tag in range(max(BY_TAG) + 1)]


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7
        if shift >= 70:
            raise DecodeError(f"varint longer than 10 bytes before byte {i}")


def _skip(data: bytes, i: int, tag: int) -> int:
    """Step over a field this decoder does not know; a known number with the wrong type is an error."""
    number, wire_type = tag >> 3, tag & 7
    if number in NAMES:
        raise DecodeError(f"field {number} ({NAMES[number]}): unexpected wire type {wire_type}")
    if number == 0:
        raise DecodeError("field number 0 is not valid")
    if wire_type == VARINT:
        _, i = _varint(data, i)
    elif wire_type == I64:
        i += 8
    elif wire_type == I32:
        i += 4
    elif wire_type == LEN:
        length, i = _varint(data, i)
        i += length
    else:
        raise DecodeError(f"field {number}: unsupported wire type {wire_type}")
    if i > len(data):
        raise DecodeError(f"field {number}: runs past the end")
    return i


def decode_pricing(data: bytes) -> dict[str, object]:
    """The fields present in a PricingData message, by their names in `pricing_pb` (betterproto's
    Python names: the .proto's, except `vol_24hr` → `vol_24_hr`).

    Raises DecodeError on anything that is not a well-formed message; unknown fields are
    skipped.
    """
    try:
        return _decode(data)
    except (IndexError, struct.error):
        raise DecodeError("message is truncated") from None
    except UnicodeDecodeError as exc:
        raise DecodeError(f"a string field is not UTF-8: {exc.reason}") from None


def _decode(data: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    tags = _TAGS
    top = len(tags)
    unpack_f = _unpack_f
    i = 0
    n = len(data)
    while i < n:
        tag = data[i]
        i += 1
        if tag >= 0x80:
            tag, i = _varint(data, i - 1)
        spec = tags[tag] if tag < top else None
        if spec is None:
            i = _skip(data, i, tag)
            continue
        name, kind = spec
        if kind is FLOAT:
            out[name] = unpack_f(data, i)[0]
            i += 4
        elif kind is STRING:
            length = data[i]
            i += 1
            if length >= 0x80:
                length, i = _varint(data, i - 1)
            end = i + length
            if end > n:
                raise DecodeError(f"{name}: length {length} runs past the end")
            out[name] = data[i:end].decode()
            i = end
        elif kind is DOUBLE:
            out[name] = _unpack_d(data, i)[0]
            i += 8
        else:
            v = data[i]
            i += 1
            if v >= 0x80:
                v, i = _varint(data, i - 1)
            if kind is SINT:
                out[name] = (v >> 1) ^ -(v & 1)
            else:  # int32/int64/enum: two's complement in 64 bits
                out[name] = v - (1 << 64) if v >= 1 << 63 else v
    return out


def to_quote(fields: dict[str, object], ts_library_in: int) -> Quote:
    """lib_common's normalisation, from this reader's dict of fields."""
    symbol = fields.get("id")
    time_ms = fields.get("time")
    if not isinstance(symbol, str) or not symbol:
        raise FrameError("no_id", "PricingData without an id")
    if not isinstance(time_ms, int):
        raise FrameError("no_time", f"PricingData for {symbol} without a time")
    get = fields.get
    price, change, change_percent = get("price"), get("change"), get("change_percent")
    return Quote(
        symbol.upper(),
        time_ms * 1000,
        ts_library_in,
        None if price is None else shortest_f32(price),  # type: ignore[arg-type]
        None if change is None else shortest_f32(change),  # type: ignore[arg-type]
        None if change_percent is None else shortest_f32(change_percent),  # type: ignore[arg-type]
        get("day_volume"),  # type: ignore[arg-type]
        None if get("market_hours") is None else MARKET_HOURS.get(get("market_hours")),  # type: ignore[call-overload]
        get("currency") or None,  # type: ignore[arg-type]
        get("exchange") or None,  # type: ignore[arg-type]
    )
