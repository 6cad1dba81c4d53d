"""Yahoo streamer frames → normalised Quotes.

A frame is the JSON envelope `{"type": "pricing", "message": "<base64 PricingData>"}` (the
`?version=2` protocol), or bare base64 (the older protocol). Fields Yahoo did not send stay
absent; float32 values are given the shortest decimal that reads back as the same float32 (what
protobuf's own JSON mapping does), so 0.64 is 0.64 and not 0.6399999856948853.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct

from lib_common.core.quote import MarketHours, Quote
from lib_common.ingestors.yahoo.wire import DecodeError, decode_pricing

# MarketHoursType; PRE_MARKET (0) never reaches the wire in proto3, so "pre" is never seen here.
MARKET_HOURS: dict[int, MarketHours] = {0: "pre", 1: "regular", 2: "post", 3: "extended", 4: "overnight"}

_f32 = struct.Struct("<f")


class FrameError(ValueError):
    """A streamer frame that carries no usable PricingData; `kind` says what was wrong."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def shortest_f32(value: float) -> float:
    """The shortest decimal that round-trips through float32 to the same value."""
    for digits in (6, 7, 8):
        candidate = float(f"{value:.{digits}g}")
        if _f32.unpack(_f32.pack(candidate))[0] == value:
            return candidate
    return float(f"{value:.9g}")


def frame_payload(frame: str | bytes) -> bytes:
    """The PricingData bytes inside one streamer text frame."""
    text = frame.decode() if isinstance(frame, bytes) else frame
    text = text.strip()
    if text.startswith("{"):
        try:
            envelope = json.loads(text)
        except ValueError as exc:
            raise FrameError("bad_json", str(exc)) from None
        if not isinstance(envelope, dict):
            raise FrameError("bad_envelope", "expected a JSON object")
        message = envelope.get("message")
        if not isinstance(message, str):
            raise FrameError("bad_envelope", f'no "message" string (type {envelope.get("type")!r})')
        text = message
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FrameError("bad_base64", str(exc)) from None


def to_quote(fields: dict[str, object], ts_library_in: int) -> Quote:
    """A Quote from decoded PricingData fields; needs at least `id` and `time`."""
    symbol = fields.get("id")
    time_ms = fields.get("time")
    if not isinstance(symbol, str) or not symbol:
        raise FrameError("no_id", "PricingData without an id")
    if not isinstance(time_ms, int):
        raise FrameError("no_time", f"PricingData for {symbol} without a time")
    hours = fields.get("market_hours")
    return Quote(
        symbol=symbol.upper(),
        ts_upstream=time_ms * 1000,
        ts_library_in=ts_library_in,
        price=_f32_field(fields, "price"),
        change=_f32_field(fields, "change"),
        change_percent=_f32_field(fields, "change_percent"),
        day_volume=_int_field(fields, "day_volume"),
        market_hours=MARKET_HOURS.get(hours) if isinstance(hours, int) else None,
        currency=_str_field(fields, "currency"),
        exchange=_str_field(fields, "exchange"),
    )


def decode_frame(frame: str | bytes, ts_library_in: int) -> Quote:
    """One streamer frame to one Quote; FrameError says what was wrong with a bad one."""
    try:
        fields = decode_pricing(frame_payload(frame))
    except DecodeError as exc:
        raise FrameError("bad_protobuf", str(exc)) from None
    return to_quote(fields, ts_library_in)


def _f32_field(fields: dict[str, object], name: str) -> float | None:
    value = fields.get(name)
    return shortest_f32(value) if isinstance(value, float) else None


def _int_field(fields: dict[str, object], name: str) -> int | None:
    value = fields.get(name)
    return value if isinstance(value, int) else None


def _str_field(fields: dict[str, object], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) and value else None
