from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.core.client_messages import Ping, Subscribe, Unsubscribe, parse_client_message
from lib_common.errors import ProtocolError


def parse(text: str) -> object:
    return parse_client_message(text, max_bytes=1024, max_symbols=3)


def test_subscribe_normalises_and_dedupes() -> None:
    assert parse('{"op":"subscribe","symbols":["aapl"," BTC-USD ","AAPL"]}') == Subscribe(("AAPL", "BTC-USD"))


def test_the_same_symbol_from_two_messages_is_one_string() -> None:
    """Ten thousand clients subscribed to AAPL hold one "AAPL" between them, not a copy each."""
    first, second = (parse(json.dumps({"op": "subscribe", "symbols": [s]})) for s in ("aapl", " AAPL "))
    assert isinstance(first, Subscribe) and isinstance(second, Subscribe)
    assert first.symbols == second.symbols == ("AAPL",)
    assert first.symbols[0] is second.symbols[0]


def test_invalid_symbols_are_set_aside_with_reasons() -> None:
    message = parse('{"op":"subscribe","symbols":["AAPL","A B",1]}')
    assert message == Subscribe(
        ("AAPL",),
        (
            ("A B", "symbols[1]: 'A B' is not a symbol (letters, digits and . - ^ =, at most 32)"),
            ("1", "symbols[2]: expected a string, found int"),
        ),
    )


def test_unsubscribe_and_ping() -> None:
    assert parse('{"op":"unsubscribe","symbols":["^GSPC"]}') == Unsubscribe(("^GSPC",))
    assert parse('{"op":"ping"}') == Ping()


def test_json_nested_past_the_decoders_depth_is_bad_json() -> None:
    # issue 13 #6: 60k levels raised RecursionError out of the parser (close 1006, a traceback)
    with pytest.raises(ProtocolError) as info:
        parse_client_message("[" * 60_000, max_bytes=65_536, max_symbols=3)
    assert info.value.code == "bad_json"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ('{"op":"ping","x":NaN}', "bad_json"),
        ('{"op":"ping","x":1e999}', "bad_json"),
        ("[1]", "bad_message"),
        ("{}", "bad_message"),
        ('{"op":"dance"}', "unknown_op"),
        ('{"op":"subscribe"}', "bad_symbols"),
        ('{"op":"subscribe","symbols":[]}', "bad_symbols"),
        ('{"op":"subscribe","symbols":["A","B","C","D"]}', "too_many_symbols"),
        ('{"op":"ping","pad":"' + "x" * 2000 + '"}', "too_large"),
    ],
)
def test_bad_input_gets_a_code(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse(text)
    assert info.value.code == code


@given(st.text(max_size=300))
def test_any_text_parses_or_raises_protocol_error(text: str) -> None:
    try:
        parse(text)
    except ProtocolError as exc:
        assert exc.code and exc.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["op", "symbols", "x"]), json_values, max_size=3))
def test_any_json_object_parses_or_raises_protocol_error(body: dict[str, object]) -> None:
    try:
        parse(json.dumps(body))
    except ProtocolError as exc:
        assert exc.code
