"""`loads`: JSON5 syntax to Python values."""

from __future__ import annotations

import math
from pathlib import Path

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


@pytest.mark.parametrize(
    ("text", "line", "column", "key"),
    [
        ("{a: 1, b: 2, a: 3}", 1, 14, "a"),  # the fast path: a key straight after ','
        ("{a: 1, /* note */ 'a': {}}", 1, 19, "a"),  # after a comment, quoted, a container value
        ("{x: {tenants: [{name: 'a'}]},\n x: 1}", 2, 2, "x"),
        ("{a: {b: 1, \\u0062: 2}}", 1, 12, "b"),  # the same key spelt with an escape
    ],
)
def test_unique_keys_refuses_the_second_where_it_stands(text: str, line: int, column: int, key: str) -> None:
    with pytest.raises(json5format.ParseError) as info:
        json5format.loads(text, source="c.json5", unique_keys=True)
    assert (info.value.line, info.value.column) == (line, column)
    assert info.value.message == f"duplicate key {key!r}: it is already set in this object"


def test_unique_keys_allows_one_name_in_different_objects() -> None:
    text = "{a: {x: 1}, b: {x: 2}, c: [{x: 3}, {x: 4}]}"
    assert json5format.loads(text, unique_keys=True) == json5format.loads(text)


def test_read_document_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_bytes(b"\xef\xbb\xbf{a: 1}")
    assert json5format.read_document(path) == "{a: 1}"
    path.write_bytes(b" " * 101)
    with pytest.raises(json5format.DocumentTooLarge, match="larger than 100 bytes"):
        json5format.read_document(path, max_bytes=100)
    assert json5format.read_document(path, max_bytes=101) == " " * 101


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
