"""The bus's one quote decoder: what the publisher encodes comes back whole; anything else is a
BusMessageError that names the field and what was found."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.errors import BusMessageError
from lib_common.redis_bus.format import decode_quote, decode_quote_frame, quote_channel, stream_key

GOOD = {"type": "quote", "symbol": "AAPL", "price": 189.25, "ts_upstream": 1, "ts_library_in": 2}

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
int64 = st.integers(-(2**63), 2**63 - 1)
quotes = st.builds(
    Quote,
    symbol=st.text(min_size=1, max_size=8),
    ts_upstream=int64,
    ts_library_in=int64,
    price=st.none() | finite,
    change=st.none() | finite,
    day_volume=st.none() | int64,
    market_hours=st.none() | st.sampled_from(["pre", "regular", "post"]),
    currency=st.none() | st.text(max_size=4),
    extra=st.just(()) | st.just((("rating", "fear"),)),
)


@given(quotes, int64)
def test_what_the_dispatcher_encodes_decodes_to_the_same_quote(quote: Quote, ts_out: int) -> None:
    frame = Frame.quote(quote, ts_out)
    decoded, ts_library_out = decode_quote_frame(frame.payload)
    assert ts_library_out == ts_out
    assert decoded.symbol == quote.symbol and decoded.ts_upstream == quote.ts_upstream
    assert decoded.ts_library_in == quote.ts_library_in and decoded.day_volume == quote.day_volume
    assert decoded.market_hours == quote.market_hours and decoded.extra == quote.extra
    assert decode_quote(frame.payload) == decoded


def test_names_are_the_contract() -> None:
    assert quote_channel("rsdev:", "AAPL") == "rsdev:quote:AAPL" and stream_key("rsdev:") == "rsdev:quotes"


@pytest.mark.parametrize(
    ("change", "reason", "says"),
    [
        ({"type": "pong"}, "not_quote", '"type": "quote"'),
        ({"symbol": ""}, "bad_field", "symbol: expected a non-empty string"),
        ({"ts_upstream": None}, "bad_field", "ts_upstream: expected an integer, found NoneType"),
        ({"ts_library_in": 1.5}, "bad_field", "ts_library_in: expected an integer, found 1.5"),
        ({"ts_library_out": "3"}, "bad_field", "ts_library_out: expected an integer, found str"),
        ({"ts_upstream": 2**63}, "bad_field", "ts_upstream: expected a 64-bit integer"),
        ({"price": float("nan")}, "not_json", "NaN is not a JSON number"),  # json.dumps writes NaN
        ({"change": float("inf")}, "not_json", "Infinity is not a JSON number"),
        ({"price": True}, "bad_field", "price: expected a number, found bool"),
        ({"day_volume": 1.0}, "bad_field", "day_volume: expected an integer, found 1.0"),
        ({"currency": 5}, "bad_field", "currency: expected a string, found 5"),
        ({"market_hours": "lunch"}, "bad_field", "market_hours: unknown session 'lunch'"),
        ({"market_hours": ["regular"]}, "bad_field", "market_hours: unknown session list"),  # fuzz finding
        ({"rating": {"a": 1}}, "bad_field", "rating: expected a scalar, found dict"),
        ({"score": float("-inf")}, "not_json", "-Infinity is not a JSON number"),
    ],
)
def test_a_message_out_of_format_says_which_field(change: dict[str, object], reason: str, says: str) -> None:
    with pytest.raises(BusMessageError, match=says.replace("(", r"\(").replace(")", r"\)")) as caught:
        decode_quote_frame(json.dumps({**GOOD, **change}))
    assert caught.value.reason == reason


@pytest.mark.parametrize(("field", "says"), [("price", "price: expected a finite"), ("score", "score: expected")])
def test_a_number_past_a_floats_range_is_refused_by_its_field(field: str, says: str) -> None:
    text = json.dumps(GOOD)[:-1] + f', "{field}": 1e999}}'  # valid JSON that Python reads as inf
    with pytest.raises(BusMessageError, match=says) as caught:
        decode_quote_frame(text)
    assert caught.value.reason == "bad_field"


def test_a_message_nested_past_the_decoders_depth_is_not_json() -> None:
    with pytest.raises(BusMessageError, match="nested deeper") as caught:
        decode_quote_frame("[" * 60_000)
    assert caught.value.reason == "not_json"


def test_not_json() -> None:
    with pytest.raises(BusMessageError) as caught:
        decode_quote(b"\xff{")
    assert caught.value.reason == "not_json"
