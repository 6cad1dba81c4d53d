"""Server → client frames: a snapshot as Yahoo's PricingData, in Yahoo's JSON envelope.

`{"type": "pricing", "message": "<base64 of PricingData>"}` (reference/yahoo-streamer.md). The
message is proto3: a field at its default value (0, 0.0, "") is left off the wire, so a
PRE_MARKET (0) quote carries no market_hours field, exactly as Yahoo's do.

The malformed variants are the fault mode's frames: each one breaks a different layer a client
decodes (JSON, envelope, base64, protobuf), and none decodes to a PricingData anywhere.
"""

from __future__ import annotations

import base64
import enum
import json
from typing import TypeVar

from lib_common.core.quote import MarketHours
from lib_common.ingestors.yahoo.pricing_pb import MarketHoursType, PricingData, QuoteType
from servers.server_dummy.book import Snapshot

# NYSE's closed hours are when US equities trade overnight (Yahoo's OVERNIGHT_MARKET).
MARKET_HOURS: dict[MarketHours, int] = {
    "pre": int(MarketHoursType.PRE_MARKET),
    "regular": int(MarketHoursType.REGULAR_MARKET),
    "post": int(MarketHoursType.POST_MARKET),
    "extended": int(MarketHoursType.EXTENDED_HOURS_MARKET),
    "overnight": int(MarketHoursType.OVERNIGHT_MARKET),
    "closed": int(MarketHoursType.OVERNIGHT_MARKET),
}


_V = TypeVar("_V", int, float)


def exchange_of(symbol: str, crypto: bool) -> str:
    return "CCC" if crypto else "NMS"


def short_name(symbol: str) -> str:
    return f"{symbol} (dummy)"


def price_hint(price: float) -> int:
    return 2 if price >= 1 else 4


def _present(value: _V) -> _V | None:
    """proto3 sends nothing for a default value; betterproto's optional fields would send it."""
    return value or None


def encode_pricing(snapshot: Snapshot) -> bytes:
    crypto = snapshot.crypto
    hours = MARKET_HOURS["regular" if crypto else snapshot.market_hours]
    message = PricingData(
        id=snapshot.symbol,
        price=_present(snapshot.price),
        time=_present(snapshot.time_ms),
        currency="USD",
        exchange=exchange_of(snapshot.symbol, crypto),
        quote_type=int(QuoteType.CRYPTOCURRENCY if crypto else QuoteType.EQUITY),
        market_hours=_present(hours),
        change_percent=_present(snapshot.change_percent),
        day_volume=_present(snapshot.day_volume),
        day_high=_present(snapshot.day_high),
        day_low=_present(snapshot.day_low),
        change=_present(snapshot.change),
        short_name=short_name(snapshot.symbol),
        previous_close=_present(snapshot.previous_close),
        price_hint=price_hint(snapshot.price),
    )
    return bytes(message)


def envelope(payload: bytes) -> str:
    return json.dumps({"type": "pricing", "message": base64.b64encode(payload).decode("ascii")}, separators=(",", ":"))


class Malformed(enum.StrEnum):
    """Kinds of broken server frame, in the order the malformed fault cycles through them."""

    BAD_BASE64 = "bad_base64"  # the message is not base64 (9 data characters: no decoder accepts it)
    GARBAGE_PROTOBUF = "garbage_protobuf"  # base64 of bytes that are not a protobuf message
    MISSING_MESSAGE = "missing_message"  # the envelope without its "message"
    NOT_JSON = "not_json"  # a text frame that is not JSON at all
    TRUNCATED_PROTOBUF = "truncated_protobuf"  # a real PricingData less its last byte


# Field 1 with wire type 7, which does not exist (protobuf.dev encoding, "Message Structure").
GARBAGE = bytes([0x0F, 0xDE, 0xAD, 0xBE, 0xEF])


def malformed_frame(kind: Malformed, good: bytes) -> str:
    """A broken frame of this kind; `good` is an encoded PricingData to truncate."""
    if kind is Malformed.BAD_BASE64:
        return json.dumps({"type": "pricing", "message": "not-base64!"})
    if kind is Malformed.GARBAGE_PROTOBUF:
        return envelope(GARBAGE)
    if kind is Malformed.MISSING_MESSAGE:
        return json.dumps({"type": "pricing"})
    if kind is Malformed.NOT_JSON:
        return "this is not JSON {"
    # Every field ends with at least one byte of value, so dropping the last byte always cuts one.
    return envelope(good[:-1])
