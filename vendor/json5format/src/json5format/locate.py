"""Where each value of a JSON5 text starts, by its path, for errors about values.

A loader that finds a bad *value* (a port out of range, an unknown key) can then say
`config.json5:12:11: listen.port: must be at most 65535` like a parser does. Paths are written
the way config errors name them: `a.b`, `a[0].c`, and "" for the top-level value.
"""

from __future__ import annotations

import bisect
import re

from .tokens import TOKEN, decode_identifier, decode_string

_LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029]")


def value_positions(text: str) -> dict[str, tuple[int, int]]:
    """(line, column), both 1-based, of every value in a JSON5 text that parses.

    On text that does not parse it returns what it found before the problem (the parser, not
    this, reports syntax errors).
    """
    line_starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
    positions: dict[str, tuple[int, int]] = {}
    # Each frame: [path, is_object, key or index, expecting a key]
    stack: list[list[object]] = []
    expect_value_at: str | None = ""
    pos = 0
    while True:
        match = TOKEN.match(text, pos)
        if match is None or match.lastgroup in ("e", "x"):
            break
        kind = match.lastgroup or "x"
        token = match.group(kind)
        start = match.start(kind)
        pos = match.end()
        top = stack[-1] if stack else None
        if top is not None and top[1] and top[3] and kind in ("s", "i"):
            top[2] = decode_string(token) if kind == "s" else decode_identifier(token)
            top[3] = False
            continue
        if kind == "p":
            if token == ":" and top is not None:
                base = str(top[0])
                expect_value_at = f"{base}.{top[2]}" if base else str(top[2])
                continue
            if token == "," and top is not None:
                if top[1]:
                    top[3] = True
                else:
                    top[2] = int(top[2]) + 1  # type: ignore[call-overload]
                    expect_value_at = f"{top[0]}[{top[2]}]"
                continue
            if token in "}]":
                stack.pop()
                expect_value_at = None
                continue
        if expect_value_at is None:
            continue
        line = bisect.bisect_right(line_starts, start)
        positions[expect_value_at] = (line, start - line_starts[line - 1] + 1)
        if token == "{":
            stack.append([expect_value_at, True, "", True])
        elif token == "[":
            stack.append([expect_value_at, False, 0, False])
            expect_value_at = f"{expect_value_at}[0]"
            continue
        expect_value_at = None
    return positions
