"""The lexical grammar of JSON5 (https://spec.json5.org), as one master regular expression.

`TOKEN.match(text, pos)` skips whitespace and comments (group `t`, spec 6.1 and 6.2) and then
matches exactly one token, named by `lastgroup`:

    p   punctuator  { } [ ] : ,
    s   string      "..." or '...' (escapes are checked when decoded, see `decode_string`)
    i   identifier  a candidate IdentifierName; non-ASCII or escaped ones are checked by
                    `decode_identifier`; also true, false, null, Infinity and NaN
    n   number      JSON5Number, not followed by an identifier character or digit (ES5 7.8.3)
    e   end of input
    x   anything else: one character, for the caller to report

The parsers turn these into values or a syntax tree; this module also decodes the pieces
and describes bad input for error messages.
"""

from __future__ import annotations

import re
import unicodedata

# Spec 6.1: WhiteSpace and LineTerminator, including the Zs category and the BOM.
WHITESPACE = "\t\n\v\f\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
LINE_TERMINATORS = "\n\r\u2028\u2029"

# Atomic (Python 3.11+): trivia is taken whole or not at all, so a failing match after it cannot
# re-split a run of spaces or comments (which was exponential: issue 13 #1).
_TRIVIA = rf"(?>(?:[{WHITESPACE}]|//[^{LINE_TERMINATORS}]*+|/\*[\s\S]*?\*/)*)"
_STRING_BODY = r"[^{q}\\\n\r]*(?:\\(?:\r\n|[\s\S])[^{q}\\\n\r]*)*"
_DOUBLE = '"' + _STRING_BODY.format(q='"') + '"'
_SINGLE = "'" + _STRING_BODY.format(q="'") + "'"
# An identifier candidate: ASCII identifier characters, \uXXXX escapes, or any non-ASCII
# character that is not whitespace; `decode_identifier` applies ID_Start/ID_Continue.
_ID_OTHER = rf"[^\x00-\x7f{WHITESPACE}\x85]|\\u[0-9a-fA-F]{{4}}"
# One character per repetition from disjoint classes (ASCII word, non-ASCII, `\u` escape), taken
# possessively: linear whatever follows (a key missing its colon used to backtrack exponentially).
_IDENT = rf"(?:[A-Za-z_$]|{_ID_OTHER})(?:[A-Za-z0-9_$]|{_ID_OTHER})*+"
_EXPONENT = r"(?:[eE][+-]?[0-9]+)?"
_NUMBER = (
    r"[+-]?(?:0[xX][0-9a-fA-F]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?"
    + _EXPONENT
    + r"|\.[0-9]+"
    + _EXPONENT
    + r"|Infinity|NaN)(?![\w$\\]|[^\x00-\x7f"
    + WHITESPACE
    + r"\x85])"
)

TOKEN = re.compile(
    rf"(?P<t>{_TRIVIA})(?:(?P<p>[{{}}\[\]:,])|(?P<s>{_DOUBLE}|{_SINGLE})|(?P<i>{_IDENT})|(?P<n>{_NUMBER})"
    r"|(?P<e>\Z)|(?P<x>[\s\S]))"
)

# Fast paths for the common layout, where only spaces and at most one line break come before a
# token: a property name with its ':', and a value with the ',' after it. Anything else (comments,
# blank lines, brackets, errors) falls back to TOKEN.
_PLAIN = r"[ \t]*(?:\n[ \t]*)?"
KEY = re.compile(rf"{_PLAIN}(?:(?P<k>{_IDENT})|(?P<q>{_DOUBLE}|{_SINGLE}))[ \t]*:")
VALUE = re.compile(rf"{_PLAIN}(?P<v>{_DOUBLE}|{_SINGLE}|{_IDENT}|{_NUMBER})(?P<c>[ \t]*,)?")

# Trivia split into its parts, for the syntax tree: comments and line breaks.
TRIVIA_PART = re.compile(rf"//[^{LINE_TERMINATORS}]*|/\*[\s\S]*?\*/|\r\n|[{LINE_TERMINATORS}]")

_ESCAPE = re.compile(
    r"\\(?:(?P<c>\r\n|[\n\r\u2028\u2029])|x(?P<x>[0-9a-fA-F]{2})|u(?P<u>[0-9a-fA-F]{4})"
    r"|(?P<z>0)(?![0-9])|(?P<bad>[1-9xu0])|(?P<o>[\s\S]))"
)
# Spec 5.1 / ES5 7.8.4: SingleEscapeCharacter; any other NonEscapeCharacter stands for itself.
_SINGLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_IDENT = re.compile(r"[A-Za-z_$][\w$]*\Z", re.ASCII)
_ID_START_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl"})
_ID_CONTINUE_CATEGORIES = _ID_START_CATEGORIES | {"Mn", "Mc", "Nd", "Pc"}

LITERALS: dict[str, object] = {
    "true": True,
    "false": False,
    "null": None,
    "Infinity": float("inf"),
    "NaN": float("nan"),
}


class TokenError(ValueError):
    """A token is malformed; `offset` is relative to the token's start."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _unescape(match: re.Match[str]) -> str:
    group = match.lastgroup
    if group == "o":
        char = match.group("o")
        return _SINGLE_ESCAPES.get(char, char)
    if group == "c":
        return ""  # LineContinuation (spec 5.1)
    if group == "u":
        return chr(int(match.group("u"), 16))
    if group == "x":
        return chr(int(match.group("x"), 16))
    if group == "z":
        return "\0"
    raise TokenError(f"invalid escape sequence {match.group()!r}", match.start())


def decode_string(token: str) -> str:
    """The value of a string token, quotes included; raises TokenError on a bad escape."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    try:
        value = _ESCAPE.sub(_unescape, body)
    except TokenError as exc:
        raise TokenError(exc.message, exc.offset + 1) from None
    if _SURROGATE.search(value):
        # Strings are UTF-16 in JSON5, as in JSON: an escaped surrogate pair is one character.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return value


def decode_identifier(token: str) -> str:
    """The name an identifier token spells (ES5 7.6); raises TokenError if it is not one."""
    if token.isascii() and "\\" not in token:
        return token
    chars: list[str] = []
    offset = 0
    while offset < len(token):
        char = token[offset]
        width = 1
        if char == "\\":
            char = chr(int(token[offset + 2 : offset + 6], 16))
            width = 6
        allowed = _ID_CONTINUE_CATEGORIES if chars else _ID_START_CATEGORIES
        if not (char in "$_" or (char in "\u200c\u200d" and chars) or unicodedata.category(char) in allowed):
            where = "be part of" if chars else "start"
            raise TokenError(f"{char!r} cannot {where} an identifier", offset)
        chars.append(char)
        offset += width
    return "".join(chars)


def is_ascii_identifier(name: str) -> bool:
    """Whether `name` can be written as a key without quotes by any JSON5 reader."""
    return _ASCII_IDENT.match(name) is not None


def number_value(token: str) -> int | float:
    """The value of a number token: int for integers and hex, float otherwise."""
    if "x" in token or "X" in token:
        return int(token, 16)
    if "." in token or "e" in token or "E" in token or "y" in token or "N" in token:
        return float(token)  # float() reads Infinity and NaN with their signs, and 1. and .5
    return int(token)


_WORD = re.compile(r"[\w$.+\-\\]*")


def describe(text: str, offset: int, kind: str | None) -> str:
    """Describe what was found at `offset` for an error message: `'b'`, `end of input`."""
    if kind == "e":
        return "end of input"
    if kind in ("n", "i") or (kind == "x" and (text[offset].isalnum() or text[offset] in "$_.")):
        end = _WORD.match(text, offset + 1)
        word = text[offset : end.end() if end else offset + 1]
        if len(word) > 20:
            word = word[:20] + "..."
        return repr(word)
    if kind == "x":
        return repr(text[offset])
    token = TOKEN.match(text, offset)
    found = token.group(token.lastgroup or "x") if token else text[offset]
    return repr(found if len(found) <= 20 else found[:20] + "...")


def diagnose(text: str, offset: int, *, numbers: bool) -> tuple[int, str] | None:
    """Explain a character no token starts with, if there is a known cause: (offset, message)."""
    char = text[offset]
    if text.startswith("/*", offset):
        return offset, "unterminated block comment: no '*/' after it"
    if char in "\"'":
        index = offset + 1
        while index < len(text):
            if text[index] == "\\":
                index += 3 if text.startswith("\r\n", index + 1) else 2
            elif text[index] in "\n\r":
                return index, "line break in string: escape it as \\n, or end the line with '\\' to continue the string"
            else:
                index += 1
        return offset, f"unterminated string: no closing {char} before the end of input"
    if numbers and char in "+-.0123456789":
        return offset, f"invalid number {describe(text, offset, 'x')}"
    return None
