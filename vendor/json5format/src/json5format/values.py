"""`loads`: JSON5 text to Python values, without keeping comments or layout.

One pass of `tokens.TOKEN` over the text with an explicit stack of open containers, so depth is
bounded by `max_depth` rather than by Python's recursion limit. Containers are attached to
their parent when they open, so closing one only pops the stack.
"""

from __future__ import annotations

from .collector import paused
from .errors import ParseError
from .tokens import (
    KEY,
    LITERALS,
    TOKEN,
    VALUE,
    TokenError,
    decode_identifier,
    decode_string,
    describe,
    diagnose,
    number_value,
)

DEFAULT_MAX_DEPTH = 1000

# What the parser expects next.
_VALUE = 0  # a value: the top-level one, or after ':'
_ITEM = 1  # after '[' or ',' in an array: a value or ']'
_KEY = 2  # after '{' or ',' in an object: a property name or '}'
_COLON = 3  # after a property name
_AFTER = 4  # after a value inside a container: ',' or the closing bracket
_END = 5  # after the top-level value: nothing more

_EXPECTED = {
    _VALUE: "expected a value",
    _ITEM: "expected an array item or ']'",
    _KEY: "expected a property name or '}'",
    _COLON: "expected ':' after a property name",
    _END: "expected end of input after the top-level value",
}


def expectation(state: int, in_object: bool) -> str:
    """What the parser wanted in `state`, for error messages."""
    if state == _AFTER:
        return "expected ',' or '}' after a property value" if in_object else "expected ',' or ']' after an array item"
    return _EXPECTED[state]


def unexpected(text: str, offset: int, kind: str | None, expected: str, source: str) -> ParseError:
    """The error for a token the grammar does not allow at `offset`."""
    if kind == "x":
        known = diagnose(text, offset, numbers=expected in (_EXPECTED[_VALUE], _EXPECTED[_ITEM]))
        if known is not None:
            return ParseError.at(text, known[0], known[1], source=source)
    return ParseError.at(text, offset, f"{expected}, found {describe(text, offset, kind)}", source=source)


def token_error(text: str, offset: int, exc: TokenError, source: str) -> ParseError:
    """Translate a malformed token's error to the document's position."""
    return ParseError.at(text, offset + exc.offset, exc.message, source=source)


def too_deep(text: str, offset: int, max_depth: int, source: str) -> ParseError:
    return ParseError.at(text, offset, f"nesting deeper than {max_depth} levels", source=source)


def scalar_value(token: str) -> object:
    """The value of a string, number or literal token (already known to be well formed)."""
    first = token[0]
    if first == '"' or first == "'":
        return decode_string(token)
    if token in LITERALS:
        return LITERALS[token]
    return number_value(token)


def loads(
    text: str, *, source: str = "<input>", max_depth: int = DEFAULT_MAX_DEPTH, unique_keys: bool = False
) -> object:
    """Parse a JSON5 document into dict, list, str, int, float, bool and None values.

    JSON5, like JSON, lets a later duplicate key replace an earlier one; `unique_keys=True`
    refuses the second one instead (a ParseError at it), as a configuration reader should: a
    repeated `tenants: []` must not switch something off without a word."""
    with paused():
        return _loads(text, source, max_depth, unique_keys)


def duplicate_key(text: str, offset: int, key: str, source: str) -> ParseError:
    return ParseError.at(text, offset, f"duplicate key {key!r}: it is already set in this object", source=source)


def _loads(text: str, source: str, max_depth: int, unique_keys: bool) -> object:
    match = TOKEN.match
    match_key = KEY.match
    match_value = VALUE.match
    literals = LITERALS
    stack: list[dict[str, object] | list[object]] = []
    top: dict[str, object] | list[object] | None = None
    key = ""
    key_at = 0  # where `key` starts, for a duplicate's error
    result: object = None
    state = _VALUE
    pos = 0
    while True:
        value: object
        if state == _KEY:
            m = match_key(text, pos)
            if m is not None:
                token = m.group(m.lastgroup or "k")
                key_at = m.start(m.lastgroup or "k")
                try:
                    key = decode_string(token) if m.lastgroup == "q" else decode_identifier(token)
                except TokenError as exc:
                    raise token_error(text, key_at, exc, source) from None
                if unique_keys and key in top:  # type: ignore[operator]
                    raise duplicate_key(text, key_at, key, source)
                pos = m.end()
                state = _VALUE
                continue
        elif (state in (_VALUE, _ITEM)) and top is not None:
            m = match_value(text, pos)
            if m is not None:
                token = m.group("v")
                first = token[0]
                if first == '"' or first == "'":
                    if "\\" in token:
                        try:
                            value = decode_string(token)
                        except TokenError as exc:
                            raise token_error(text, m.start("v"), exc, source) from None
                    else:
                        value = token[1:-1]
                elif token in literals:
                    value = literals[token]
                elif first in "+-.0123456789":
                    value = number_value(token)
                else:
                    value = None
                    m = None  # an identifier where a value belongs: reported by the general path
                if m is not None:
                    pos = m.end()
                    if type(top) is dict:
                        top[key] = value
                        state = _AFTER if m.lastgroup == "v" else _KEY
                    else:
                        top.append(value)  # type: ignore[union-attr]
                        state = _AFTER if m.lastgroup == "v" else _ITEM
                    continue
        m = match(text, pos)
        assert m is not None  # the x alternative matches any character
        kind = m.lastgroup
        pos = m.end()
        if state == _AFTER:
            if kind == "p":
                char = text[pos - 1]
                if char == ",":
                    state = _KEY if type(top) is dict else _ITEM
                    continue
                if (char == "}") if type(top) is dict else (char == "]"):
                    stack.pop()
                    if stack:
                        top = stack[-1]
                    else:
                        state = _END
                    continue
            raise unexpected(text, m.start(kind or "x"), kind, expectation(state, type(top) is dict), source)
        if state == _KEY:
            if kind == "i" or kind == "s":
                token = m.group(kind)
                key_at = pos - len(token)
                try:
                    key = decode_identifier(token) if kind == "i" else decode_string(token)
                except TokenError as exc:
                    raise token_error(text, key_at, exc, source) from None
                if unique_keys and key in top:  # type: ignore[operator]
                    raise duplicate_key(text, key_at, key, source)
                state = _COLON
                continue
            if kind == "p" and text[pos - 1] == "}":
                stack.pop()
                if stack:
                    top = stack[-1]
                    state = _AFTER
                else:
                    state = _END
                continue
            raise unexpected(text, m.start(kind or "x"), kind, expectation(state, True), source)
        if state == _COLON:
            if kind == "p" and text[pos - 1] == ":":
                state = _VALUE
                continue
            raise unexpected(text, m.start(kind or "x"), kind, expectation(state, True), source)
        if state == _END:
            if kind == "e":
                return result
            raise unexpected(text, m.start(kind or "x"), kind, expectation(state, False), source)
        # _VALUE or _ITEM: a value starts here.
        if kind == "s" or kind == "n" or (kind == "i" and m.group("i") in literals):
            token = m.group(kind)
            try:
                value = scalar_value(token)
            except TokenError as exc:
                raise token_error(text, pos - len(token), exc, source) from None
        elif kind == "p":
            char = text[pos - 1]
            if char == "{" or char == "[":
                if len(stack) >= max_depth:
                    raise too_deep(text, pos - 1, max_depth, source)
                container: dict[str, object] | list[object] = {} if char == "{" else []
                if top is None:
                    result = container
                elif type(top) is dict:
                    top[key] = container
                else:
                    top.append(container)  # type: ignore[union-attr]
                stack.append(container)
                top = container
                state = _KEY if char == "{" else _ITEM
                continue
            if char == "]" and state == _ITEM:
                stack.pop()
                if stack:
                    top = stack[-1]
                    state = _AFTER
                else:
                    state = _END
                continue
            raise unexpected(text, pos - 1, kind, expectation(state, False), source)
        else:
            raise unexpected(text, m.start(kind or "x"), kind, expectation(state, False), source)
        if top is None:
            result = value
            state = _END
        elif type(top) is dict:
            top[key] = value
            state = _AFTER
        else:
            top.append(value)  # type: ignore[union-attr]
            state = _AFTER
