"""Where the values JSON cannot hold (NaN, Infinity) sit in a JSON5 text, for file:line:col errors.

json5format's values and syntax tree keep no positions, so this walks its lexical grammar
(`json5format.tokens.TOKEN`) over a text that already parsed: a NaN or Infinity token that is
not followed by ':' is a value, not a property name.
"""

from __future__ import annotations

from json5format.errors import line_and_column
from json5format.tokens import TOKEN

_NONFINITE = frozenset({"NaN", "Infinity"})


def nonfinite_positions(text: str) -> list[tuple[int, int, str]]:
    """(line, column, token) of every NaN/Infinity value in a valid JSON5 `text`."""
    found: list[tuple[int, int, str]] = []
    pending: tuple[int, str] | None = None
    pos = 0
    while True:
        match = TOKEN.match(text, pos)
        if match is None or match.lastgroup in ("e", "x"):
            break
        token = match.group(match.lastgroup or "x")
        if pending is not None and token != ":":
            found.append((*line_and_column(text, pending[0]), pending[1]))
        pending = None
        if match.lastgroup in ("n", "i") and token.lstrip("+-") in _NONFINITE:
            pending = (match.start(match.lastgroup or "x"), token)
        pos = match.end()
    if pending is not None:
        found.append((*line_and_column(text, pending[0]), pending[1]))
    return found
