"""Property tests: generated JSON5 with comments survives formatting; loads agrees with json."""

from __future__ import annotations

import dataclasses
import json
import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

import json5format
from json5format import FormatOptions

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150)
@given(json_values, st.booleans())
def test_loads_agrees_with_json_on_json(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json5format.loads(text) == json.loads(text)


# A JSON5 document is built from a value tree, rendered with random syntax choices and comments.
_comment_words = st.text(st.characters(codec="utf-8", exclude_characters="*/\r\n\u2028\u2029\x85"), max_size=12)


@st.composite
def _comment(draw: st.DrawFn) -> str:
    words = draw(_comment_words).strip()
    if draw(st.booleans()):
        return f"// {words}\n"
    return f"/* {words} */" + draw(st.sampled_from(["", " ", "\n"]))


@st.composite
def _gap(draw: st.DrawFn) -> str:
    """Whitespace and comments between tokens."""
    parts = draw(st.lists(st.one_of(st.sampled_from([" ", "\n", "\n\n", "\t", "\r\n"]), _comment()), max_size=3))
    return "".join(parts)


def _string(draw: st.DrawFn, text: str) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    escaped = json.dumps(text, ensure_ascii=draw(st.booleans()))[1:-1]
    if quote == "'":
        escaped = escaped.replace('\\"', '"').replace("'", "\\'")
    return quote + escaped + quote


_number_forms = st.sampled_from(["42", "0x2A", "0X2a", "+42", "42.", "4.2e1", ".5", "-.5", "-0x1", "1E-3", "0"])
_literals = st.sampled_from(["true", "false", "null", "Infinity", "-Infinity", "NaN", "+NaN"])
_keys = st.one_of(st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,6}", fullmatch=True), st.text(max_size=6))


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    choice = draw(st.integers(0, 4 if depth < 3 else 2))
    if choice == 0:
        return draw(_number_forms)
    if choice == 1:
        return draw(_literals)
    if choice == 2:
        return _string(draw, draw(st.text(max_size=10)))
    items = draw(st.lists(documents(depth + 1), max_size=4))
    parts: list[str] = []
    for item in items:
        if choice == 3:
            parts.append(draw(_gap()) + item + draw(_gap()))
        else:
            key = draw(_keys)
            quoted = _string(draw, key)
            written = key if key.isascii() and key.isidentifier() and draw(st.booleans()) else quoted
            parts.append(draw(_gap()) + written + draw(_gap()) + ":" + draw(_gap()) + item + draw(_gap()))
    body = ",".join(parts)
    if parts and draw(st.booleans()):
        body += "," + draw(_gap())
    elif not parts:
        body = draw(_gap())
    return ("[" + body + "]") if choice == 3 else ("{" + body + "}")


@st.composite
def documents_with_comments(draw: st.DrawFn) -> str:
    return draw(_gap()) + draw(documents()) + draw(_gap())


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


_options = st.builds(
    FormatOptions,
    indent=st.integers(0, 8),
    trailing_commas=st.booleans(),
    collapse_containers_of_one=st.booleans(),
    sort_arrays=st.booleans(),
)


@settings(max_examples=150)
@given(documents_with_comments(), _options)
def test_format_keeps_the_value(text: str, options: FormatOptions) -> None:
    options = dataclasses.replace(options, sort_arrays=False)  # sorting changes values, by design
    formatted = json5format.format(text, options)
    assert _same(json5format.loads(formatted), json5format.loads(text))


@settings(max_examples=150)
@given(documents_with_comments(), _options)
def test_format_keeps_every_comment(text: str, options: FormatOptions) -> None:
    formatted = json5format.format(text, options)
    document = json5format.parse(text)
    for comment in _comments(document):
        assert comment.text.rstrip() in formatted


@settings(max_examples=150)
@given(documents_with_comments(), _options)
def test_format_is_idempotent(text: str, options: FormatOptions) -> None:
    once = json5format.format(text, options)
    assert json5format.format(once, options) == once


@settings(max_examples=200)
@given(documents_with_comments())
def test_parse_and_loads_agree_on_acceptance(text: str) -> None:
    json5format.parse(text)
    json5format.loads(text)


def _comments(document: json5format.Document) -> list[json5format.cst.Comment]:
    found = [
        c for c in (*document.leading, *document.eol, *document.trailing) if isinstance(c, json5format.cst.Comment)
    ]
    nodes: list[object] = [document.value]
    while nodes:
        node = nodes.pop()
        if isinstance(node, json5format.cst.Container):
            found.extend(node.open_comments)
            found.extend(c for c in node.trailing if isinstance(c, json5format.cst.Comment))
            for element in node.elements:
                found.extend(c for c in element.leading if isinstance(c, json5format.cst.Comment))
                found.extend(element.eol)
                nodes.append(element.value)
    return found


@given(documents_with_comments())
def test_every_comment_in_the_source_is_in_the_tree(text: str) -> None:
    expected = len(re.findall(r"//[^\r\n]*|/\*.*?\*/", text, re.DOTALL))
    strings_may_hold_slashes = "'" in text or '"' in text
    assert len(_comments(json5format.parse(text))) == expected or strings_may_hold_slashes
