"""untrusted_json.loads: one failure type for every way hostile JSON fails."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.untrusted_json import BadJSON, loads


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("[" * 60_000, "too_deep"),
        ('{"a":' * 60_000, "too_deep"),
        ('{"price": NaN}', "not_finite"),
        ("[Infinity]", "not_finite"),
        ("-Infinity", "not_finite"),
        ("[1e999]", "not_finite"),
        ("9" * 5000, "not_json"),  # past the interpreter's int digit limit
        (b"\xff\xfe", "not_json"),
        ("{} x", "not_json"),
        ("", "not_json"),
    ],
)
def test_each_way_in_is_one_error(data: str | bytes, reason: str) -> None:
    with pytest.raises(BadJSON) as info:
        loads(data)
    assert info.value.reason == reason


def test_check_floats_off_leaves_the_range_to_the_reader() -> None:
    assert loads("[1e999]", check_floats=False) == [float("inf")]
    with pytest.raises(BadJSON, match="NaN"):
        loads("[NaN]", check_floats=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=30,
)


@given(json_values)
def test_what_json_writes_it_reads(value: object) -> None:
    assert loads(json.dumps(value)) == value
    assert loads(json.dumps(value).encode()) == value


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_input_is_a_value_or_bad_json(data: bytes | str) -> None:
    try:
        value = loads(data)
    except BadJSON:
        return
    assert loads(json.dumps(value)) == value  # what it took in is JSON it can write again
