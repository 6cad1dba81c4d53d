"""Server frames: PricingData encoding (proto3 defaults left off) and the malformed variants."""

from __future__ import annotations

import dataclasses

import pytest

from lib_common.ingestors.yahoo.pricing_pb import PricingData
from servers.server_dummy.book import Snapshot
from servers.server_dummy.pricing import Malformed, encode_pricing, envelope, malformed_frame
from tests.servers.server_dummy.client import decode_frame

SNAPSHOT = Snapshot(
    symbol="AAPL",
    time_ms=1_763_769_600_000,
    price=189.25,
    previous_close=188.0,
    day_volume=51_234_500,
    day_high=190.5,
    day_low=187.75,
    market_hours="regular",
)


def test_equity_frame_decodes_to_every_field() -> None:
    assert decode_frame(envelope(encode_pricing(SNAPSHOT))) == {
        "id": "AAPL",
        "price": 189.25,
        "time": 1_763_769_600_000,
        "currency": "USD",
        "exchange": "NMS",
        "quote_type": 8,
        "market_hours": 1,
        "change_percent": pytest.approx(1.25 / 188 * 100, rel=1e-6),
        "day_volume": 51_234_500,
        "day_high": 190.5,
        "day_low": 187.75,
        "change": 1.25,
        "short_name": "AAPL (dummy)",
        "previous_close": 188.0,
        "price_hint": 2,
    }


def test_betterproto_reads_what_we_write() -> None:
    message = PricingData().parse(encode_pricing(SNAPSHOT))
    assert (message.id, message.time, message.market_hours) == ("AAPL", 1_763_769_600_000, 1)


def test_pre_market_leaves_market_hours_off_the_wire() -> None:
    fields = decode_frame(envelope(encode_pricing(dataclasses.replace(SNAPSHOT, market_hours="pre"))))
    assert "market_hours" not in fields


def test_post_market_is_two() -> None:
    fields = decode_frame(envelope(encode_pricing(dataclasses.replace(SNAPSHOT, market_hours="post"))))
    assert fields["market_hours"] == 2


def test_crypto_is_regular_around_the_clock() -> None:
    crypto = dataclasses.replace(SNAPSHOT, symbol="BTC-USD", market_hours="closed")
    fields = decode_frame(envelope(encode_pricing(crypto)))
    assert (fields["quote_type"], fields["market_hours"], fields["exchange"]) == (41, 1, "CCC")


def test_unchanged_price_sends_no_change_fields() -> None:
    flat = dataclasses.replace(SNAPSHOT, previous_close=SNAPSHOT.price)
    fields = decode_frame(envelope(encode_pricing(flat)))
    assert "change" not in fields and "change_percent" not in fields


@pytest.mark.parametrize("kind", list(Malformed))
def test_malformed_frames_do_not_decode(kind: Malformed) -> None:
    with pytest.raises((ValueError, KeyError)):
        decode_frame(malformed_frame(kind, encode_pricing(SNAPSHOT)))
