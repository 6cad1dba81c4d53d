"""The public JSON5 parse suite (json5/json5-tests): .json and .json5 parse, .js and .txt fail.

Files are read as bytes and decoded here, so that the CR and CRLF cases in new-lines/ reach
the parser as written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import json5format

SUITE = Path(__file__).resolve().parents[3] / "shared/conformance/json5-tests"

# Values of the .json5 cases, checked by hand against the files (and against the json5 package,
# which this job's environment does not have). Cases not listed here are compared with the
# .json file of the same name, or listed in LONG_CASES.
EXPECTED = {
    "arrays/trailing-comma-array.json5": [None],
    "comments/block-comment-following-array-element.json5": [False],
    "comments/block-comment-following-top-level-value.json5": None,
    "comments/block-comment-preceding-top-level-value.json5": None,
    "comments/block-comment-with-asterisks.json5": True,
    "comments/inline-comment-following-array-element.json5": [False],
    "comments/inline-comment-following-top-level-value.json5": None,
    "comments/inline-comment-preceding-top-level-value.json5": None,
    "misc/valid-whitespace.json5": {"a": True},
    "new-lines/comment-cr.json5": {},
    "new-lines/comment-crlf.json5": {},
    "new-lines/comment-lf.json5": {},
    "new-lines/escaped-cr.json5": {"a": "line 1 line 2"},
    "new-lines/escaped-crlf.json5": {"a": "line 1 line 2"},
    "new-lines/escaped-lf.json5": {"a": "line 1 line 2"},
    "numbers/float-leading-decimal-point.json5": 0.5,
    "numbers/float-trailing-decimal-point-with-integer-exponent.json5": 50000.0,
    "numbers/float-trailing-decimal-point.json5": 5.0,
    "numbers/hexadecimal-lowercase-letter.json5": 200,
    "numbers/hexadecimal-uppercase-x.json5": 200,
    "numbers/hexadecimal-with-integer-exponent.json5": 0xC8E4,
    "numbers/hexadecimal.json5": 200,
    "numbers/infinity.json5": math.inf,
    "numbers/nan.json5": math.nan,
    "numbers/negative-float-leading-decimal-point.json5": -0.5,
    "numbers/negative-float-trailing-decimal-point.json5": -5.0,
    "numbers/negative-hexadecimal.json5": -200,
    "numbers/negative-infinity.json5": -math.inf,
    "numbers/negative-zero-float-leading-decimal-point.json5": -0.0,
    "numbers/negative-zero-float-trailing-decimal-point.json5": -0.0,
    "numbers/negative-zero-hexadecimal.json5": 0,
    "numbers/positive-float-leading-decimal-point.json5": 0.5,
    "numbers/positive-float-leading-zero.json5": 0.5,
    "numbers/positive-float-trailing-decimal-point.json5": 5.0,
    "numbers/positive-float.json5": 1.2,
    "numbers/positive-hexadecimal.json5": 200,
    "numbers/positive-infinity.json5": math.inf,
    "numbers/positive-integer.json5": 15,
    "numbers/positive-zero-float-leading-decimal-point.json5": 0.0,
    "numbers/positive-zero-float-trailing-decimal-point.json5": 0.0,
    "numbers/positive-zero-float.json5": 0.0,
    "numbers/positive-zero-hexadecimal.json5": 0,
    "numbers/positive-zero-integer.json5": 0,
    "numbers/zero-float-leading-decimal-point.json5": 0.0,
    "numbers/zero-float-trailing-decimal-point.json5": 0.0,
    "numbers/zero-hexadecimal.json5": 0,
    "objects/reserved-unquoted-key.json5": {"while": True},
    "objects/single-quoted-key.json5": {"hello": "world"},
    "objects/trailing-comma-object.json5": {"foo": "bar"},
    "objects/unquoted-keys.json5": {
        "hello": "world",
        "_": "underscore",
        "$": "dollar sign",
        "one1": "numerals",
        "_$_": "multiple symbols",
        "$_$hello123world_$_": "mixed",
    },
    "strings/escaped-single-quoted-string.json5": "I can't wait",
    "strings/multi-line-string.json5": "hello world",
    "strings/single-quoted-string.json5": "hello world",
    "todo/unicode-escaped-unquoted-key.json5": {"sig\u03a3ma": "the sum of all things"},
    "todo/unicode-unquoted-key.json5": {"\u00fcml\u00e5\u00fbt": "that's not really an \u00fcmla\u00fct, but this is"},
    "misc/readme-example.json5": {
        "foo": "bar",
        "while": True,
        "this": "is a multi-line string",
        "here": "is another",
        "hex": 0xDEADBEEF,
        "half": 0.5,
        "delta": 10,
        "to": math.inf,
        "finally": "a trailing comma",
        "oh": ["we shouldn't forget", "arrays can have", "trailing commas too"],
    },
}


def _cases(*suffixes: str) -> list[str]:
    if not SUITE.is_dir():
        return [f"MISSING:{SUITE}"]
    return sorted(str(path.relative_to(SUITE)) for path in SUITE.rglob("*") if path.suffix in suffixes)


def _read(case: str) -> str:
    assert not case.startswith("MISSING:"), f"the JSON5 conformance suite is missing: expected it at {SUITE}"
    return (SUITE / case).read_bytes().decode("utf-8")


def _same(left: object, right: object) -> bool:
    """Equality that also holds for NaN and tells -0.0 from 0.0 and 1 from 1.0."""
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or (
            left == right and math.copysign(1, left) == math.copysign(1, right)
        )
    if type(left) is not type(right):
        return False
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def test_suite_is_present() -> None:
    assert SUITE.is_dir(), f"the JSON5 conformance suite is missing: expected it at {SUITE}"
    assert len(_cases(".json", ".json5", ".js", ".txt")) > 100


@pytest.mark.parametrize("case", _cases(".json"))
def test_json_case_parses_like_json_loads(case: str) -> None:
    text = _read(case)
    assert _same(json5format.loads(text), json.loads(text))


@pytest.mark.parametrize("case", _cases(".json5"))
def test_json5_case_parses_to_expected_value(case: str) -> None:
    text = _read(case)
    value = json5format.loads(text)
    sibling = SUITE / case.replace(".json5", ".json")
    expected = EXPECTED[case] if case in EXPECTED else json.loads(sibling.read_bytes().decode())
    assert _same(value, expected)


@pytest.mark.parametrize("case", _cases(".js", ".txt"))
def test_invalid_case_is_rejected(case: str) -> None:
    text = _read(case)
    with pytest.raises(json5format.ParseError):
        json5format.loads(text)
    with pytest.raises(json5format.ParseError):
        json5format.parse(text)


@pytest.mark.parametrize("case", _cases(".json", ".json5"))
def test_formatting_a_valid_case_keeps_its_value_and_is_idempotent(case: str) -> None:
    text = _read(case)
    formatted = json5format.format(text)
    assert _same(json5format.loads(formatted), json5format.loads(text))
    assert json5format.format(formatted) == formatted
