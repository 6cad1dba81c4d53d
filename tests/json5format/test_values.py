"""`loads`: JSON5 syntax to Python values."""

from __future__ import annotations

import math

import pytest

import json5format


def test_readme_features() -> None:
    text = """{
      // comments
      unquoted: 'and you can quote me on that',
      singleQuotes: 'I can use "double quotes" here',
      lineBreaks: "Look, Mom! \\
No \\\\n's!",
      hexadecimal: 0xdecaf,
      leadingDecimalPoint: .8675309, andTrailing: 8675309.,
      positiveSign: +1,
      trailingComma: 'in objects', andIn: ['arrays',],
      "backwardsCompatible": "with JSON",
    }"""
    assert json5format.loads(text) == {
        "unquoted": "and you can quote me on that",
        "singleQuotes": 'I can use "double quotes" here',
        "lineBreaks": "Look, Mom! No \\n's!",
        "hexadecimal": 0xDECAF,
        "leadingDecimalPoint": 0.8675309,
        "andTrailing": 8675309.0,
        "positiveSign": 1,
        "trailingComma": "in objects",
        "andIn": ["arrays"],
        "backwardsCompatible": "with JSON",
    }


def test_number_types() -> None:
    assert json5format.loads("[1, -0x1F, 1.5, 1e3, -Infinity, +Infinity]") == [1, -31, 1.5, 1000.0, -math.inf, math.inf]
    assert type(json5format.loads("0x10")) is int
    assert math.isnan(json5format.loads("-NaN"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"""'\b\f\n\r\t\v\0\'\"\\\/\a\x41\u00e9\ud83d\ude00'""", "\b\f\n\r\t\v\0'\"\\/aA\u00e9\U0001f600"),
        ("\ufeff\u00a0{\u2028a\u3000:\u20091\u2029,\v\f}\u202f", {"a": 1}),
        ('"a\u2028b\u2029c"', "a\u2028b\u2029c"),
        (
            "{\u00fcml\u00e5\u00fbt: 1, sig\\u03A3ma: 2, \\u0061b: 3, a\u0301: 4}",
            {"\u00fcml\u00e5\u00fbt": 1, "sig\u03a3ma": 2, "ab": 3, "a\u0301": 4},
        ),
        ("{true: 1, null: 2, Infinity: 3, NaN: 4, if: 5}", {"true": 1, "null": 2, "Infinity": 3, "NaN": 4, "if": 5}),
        ("{a: 1, b: 2, a: 3}", {"a": 3, "b": 2}),
        ("/*a*/{/*b*/x/*c*/:/*d*/[/*e*/1/*f*/,/*g*/]/*h*/,//i\n}//j", {"x": [1]}),
    ],
    ids=[
        "all-escapes",
        "extra-whitespace-and-bom",
        "unescaped-line-and-paragraph-separators-in-strings",
        "unicode-and-escaped-identifiers",
        "reserved-words-and-literal-names-as-keys",
        "duplicate-keys-keep-the-last-value",
        "comments-everywhere",
    ],
)
def test_loads(text: str, value: object) -> None:
    assert json5format.loads(text) == value


def test_line_continuations_of_every_kind() -> None:
    for newline in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
        assert json5format.loads(f"'a\\{newline}b'") == "ab"


def test_nesting_up_to_the_limit() -> None:
    depth = json5format.DEFAULT_MAX_DEPTH
    value = json5format.loads("[" * depth + "]" * depth)
    for _ in range(depth - 1):
        assert isinstance(value, list)
        value = value[0]
    assert value == []
