"""Parse errors: position, message, and the `source:line:col: message` form."""

from __future__ import annotations

import pickle

import pytest

import json5format
from json5format import ParseError


def _error(text: str, source: str = "<input>") -> ParseError:
    with pytest.raises(ParseError) as info:
        json5format.loads(text, source=source)
    with pytest.raises(ParseError) as tree_info:
        json5format.parse(text, source=source)
    assert str(tree_info.value) == str(info.value), "loads and parse must report alike"
    return info.value


def test_error_str_is_source_line_column_message() -> None:
    error = _error("{\n  a: 1,\n  b: 2 c: 3\n}", source="config.json5")
    assert (error.source, error.line, error.column) == ("config.json5", 3, 8)
    assert error.message == "expected ',' or '}' after a property value, found 'c'"
    assert str(error) == "config.json5:3:8: expected ',' or '}' after a property value, found 'c'"


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("[\n    true\n    false\n]", 3, 5, "expected ',' or ']' after an array item, found 'false'"),
        ("{\n    multi-word: 1\n}", 2, 10, "expected ':' after a property name, found '-'"),
        ("{\n    10twenty: 1\n}", 2, 5, "expected a property name or '}', found '10twenty'"),
        ("  // only a comment\n", 2, 1, "expected a value, found end of input"),
        ("[1, /* open", 1, 5, "unterminated block comment: no '*/' after it"),
        (
            '{a: "foo\nbar"}',
            1,
            9,
            "line break in string: escape it as \\n, or end the line with '\\' to continue the string",
        ),
        ("['abc", 1, 2, "unterminated string: no closing ' before the end of input"),
        ("{a: yes}", 1, 5, "expected a value, found 'yes'"),
        ("{} []", 1, 4, "expected end of input after the top-level value, found '['"),
        ("[,]", 1, 2, "expected an array item or ']', found ','"),
        ("{,}", 1, 2, "expected a property name or '}', found ','"),
        ("{a\u00b7\u2603: 1}", 1, 3, "'·' cannot be part of an identifier"),
        # columns count code points, and CRLF ends one line
        ('{\r\n"\u00e9\u00e9": 1 2}', 2, 9, "expected ',' or '}' after a property value, found '2'"),
        # a parse error, not a RecursionError
        ("[" * 100_000, 1, 1001, "nesting deeper than 1000 levels"),
    ],
    ids=[
        "missing-comma",
        "missing-colon",
        "number-as-key",
        "empty",
        "open-comment",
        "line-break",
        "open-string",
        "identifier-value",
        "trailing-content",
        "lone-comma-in-array",
        "lone-comma-in-object",
        "identifier-character",
        "code-points-and-crlf",
        "deep-nesting",
    ],
)
def test_error_position_and_message(text: str, line: int, column: int, message: str) -> None:
    error = _error(text)
    assert (error.line, error.column) == (line, column)
    assert error.message == message


@pytest.mark.parametrize(("text", "column"), [(r'"a\1"', 3), (r'"\x4"', 2), (r'"\u12"', 2), (r'"\01"', 2)])
def test_bad_escape(text: str, column: int) -> None:
    error = _error(text)
    assert error.column == column
    assert error.message.startswith("invalid escape sequence")


@pytest.mark.parametrize("text", ["01", "0x", "1.2.3", "+-1", "1e", ".", "0xg"])
def test_bad_number(text: str) -> None:
    error = _error(text)
    assert error.column == 1 or "after the top-level value" in error.message


def test_max_depth_is_adjustable() -> None:
    assert json5format.loads("[[[]]]", max_depth=3) == [[[]]]
    with pytest.raises(ParseError, match="nesting deeper than 2 levels"):
        json5format.loads("[[[]]]", max_depth=2)
    with pytest.raises(ParseError, match="nesting deeper than 2 levels"):
        json5format.parse("[[[]]]", max_depth=2)


def test_format_raises_parse_error_with_source() -> None:
    with pytest.raises(ParseError, match=r"^x\.json5:1:4: "):
        json5format.format("[1 2]", source="x.json5")


def test_parse_error_pickles() -> None:
    error = _error("[1 2]", source="f")
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "text",
    [
        "{ memory: { stall_timeout_seconds_for_clients 10 } }",  # issue 13 #1: hung every config reader
        "{ " + "a" * 5000 + " 1}",
        "{" + "//" * 5000 + "\n!}",
        "{" + " " * 20000 + "!}",
    ],
    ids=["missing-colon", "long-key", "many-comments", "long-space"],
)
def test_inputs_that_used_to_backtrack_fail_at_once(text: str) -> None:
    assert _error(text).message.startswith("expected")
