from __future__ import annotations

import math

import pytest

from lib_common.errors import ConfigError, PayloadError, PlacedError, RsdevError
from lib_common.payload import expect_list, expect_number, expect_object, optional_number, optional_string


def test_payload_errors_name_the_path_and_what_was_found() -> None:
    with pytest.raises(PayloadError, match=r"^chart\.result: expected an array, found null$"):
        expect_list(None, "chart.result")
    with pytest.raises(PayloadError, match=r"^\$: expected an object, found string$"):
        expect_object("x", "$")
    with pytest.raises(PayloadError, match=r"^a\.b: expected a number, found boolean$"):
        expect_number(True, "a.b")
    with pytest.raises(PayloadError, match=r"^a\.b: expected a finite number, found nan$"):
        expect_number(math.nan, "a.b")
    assert issubclass(PayloadError, RsdevError)


def test_a_payload_error_and_a_config_error_both_say_where_then_what() -> None:
    payload, config = PayloadError("chart.result[0]", "missing"), ConfigError("a.json5:2:3", "bad")
    assert isinstance(payload, PlacedError) and isinstance(config, PlacedError)
    assert (str(payload), payload.where, payload.message) == ("chart.result[0]: missing", "chart.result[0]", "missing")
    assert (str(config), config.where, config.message) == ("a.json5:2:3: bad", "a.json5:2:3", "bad")
    assert not isinstance(payload, ConfigError)


def test_numbers_are_read_as_floats_and_huge_integers_refused() -> None:
    assert expect_number(3, "x") == 3.0
    assert optional_number(10**400) is None
    assert optional_number("3") is None


def test_an_optional_string_is_a_non_empty_string_or_none() -> None:
    assert optional_string("Apple Inc.") == "Apple Inc."
    assert optional_string("") is None and optional_string(3) is None
