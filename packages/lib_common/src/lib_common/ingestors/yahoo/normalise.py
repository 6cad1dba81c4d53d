"""Yahoo streamer frames → normalised Quotes.

A frame is the JSON envelope `{"type": "pricing", "message": "<base64 PricingData>"}` (the
`?version=2` protocol), or bare base64 (the older protocol). Fields Yahoo did not send stay
absent; float32 values are given the shortest decimal that reads back as the same float32 (what
protobuf's own JSON mapping does), so 0.64 is 0.64 and not 0.6399999856948853.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct

from lib_common import untrusted_json
from lib_common.core.quote import MarketHours, Quote
from lib_common.ingestors.yahoo.wire import DecodeError, PricingData, parse_pricing

# MarketHoursType; PRE_MARKET (0) never reaches the wire in proto3, so "pre" is never seen here.
MARKET_HOURS: dict[int, MarketHours] = {0: "pre", 1: "regular", 2: "post", 3: "extended", 4: "overnight"}

_f32 = struct.Struct("<f")
_pack, _unpack = _f32.pack, _f32.unpack
_isfinite = math.isfinite
# The streamer's envelope, compact or as Python's json.dumps writes it; any other spelling
# goes through json.loads.
_ENVELOPE_HEADS = ('{"type":"pricing","message":"', '{"type": "pricing", "message": "')
_ENVELOPE_TAIL = '"}'


class FrameError(ValueError):
    """A streamer frame that carries no usable PricingData; `kind` says what was wrong."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def shortest_f32(value: float) -> float:
    """A short decimal that reads back as the same float32 (at most 9 significant digits).

    7 digits round-trip for nearly every float32 and drop the binary noise (0.64, not
    0.6399999856948853); 8 or 9 are tried only when 7 do not.
    """
    for digits in ("%.7g", "%.8g"):
        candidate = float(digits % value)
        if _unpack(_pack(candidate))[0] == value:
            return candidate
    return float("%.9g" % value)  # noqa: UP031 - %-format is the cheapest here, per quote


def frame_payload(frame: str | bytes) -> bytes:
    """The PricingData bytes inside one streamer text frame."""
    try:
        text = frame.decode() if isinstance(frame, bytes) else frame
    except UnicodeDecodeError as exc:
        raise FrameError("not_utf8", f"a binary frame that is not UTF-8 text: {exc.reason}") from None
    for head in _ENVELOPE_HEADS:
        if text.startswith(head) and text.endswith(_ENVELOPE_TAIL):
            # Fast path: base64 needs no JSON escapes, and b64decode(validate=True) rejects
            # anything that is not base64, so an unusual envelope falls through to json.loads.
            try:
                return base64.b64decode(text[len(head) : -len(_ENVELOPE_TAIL)], validate=True)
            except (binascii.Error, ValueError):
                break
    text = text.strip()
    if text.startswith("{"):
        try:
            envelope = untrusted_json.loads(text)
        except untrusted_json.BadJSON as exc:
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


def to_quote(message: PricingData, ts_library_in: int) -> Quote:
    """A Quote from a decoded PricingData; needs at least `id` and `time`."""
    has = message.HasField
    if not has("id") or not message.id:
        raise FrameError("no_id", "PricingData without an id")
    symbol = message.id
    if not has("time"):
        raise FrameError("no_time", f"PricingData for {symbol} without a time")
    price = message.price if has("price") else None
    change = message.change if has("change") else None
    change_percent = message.change_percent if has("change_percent") else None
    # NaN or ±Inf would reach clients as JSON that no parser reads (frames are encoded with
    # allow_nan=False): such a frame is malformed.
    for value in (price, change, change_percent):
        if value is not None and not _isfinite(value):
            raise FrameError("not_finite", f"PricingData for {symbol} with a non-finite number {value}")
    return Quote(
        symbol.upper(),
        message.time * 1000,
        ts_library_in,
        None if price is None else shortest_f32(price),
        None if change is None else shortest_f32(change),
        None if change_percent is None else shortest_f32(change_percent),
        message.day_volume if has("day_volume") else None,
        MARKET_HOURS.get(message.market_hours) if has("market_hours") else None,
        message.currency or None,
        message.exchange or None,
    )


def decode_frame(frame: str | bytes, ts_library_in: int) -> Quote:
    """One streamer frame to one Quote; FrameError says what was wrong with a bad one."""
    try:
        message = parse_pricing(frame_payload(frame))
    except DecodeError as exc:
        raise FrameError("bad_protobuf", str(exc)) from None
    return to_quote(message, ts_library_in)
