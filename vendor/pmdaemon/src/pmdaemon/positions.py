"""Where each value and property name of a (valid) JSON5 document starts.

json5format.loads gives values without positions; validation errors must still point at
`file:line:col`, so this walks the document's tokens once more and records the offset of
every value and every property name under its JSON path.
"""

from __future__ import annotations

import contextlib

from json5format.tokens import TOKEN, decode_identifier, decode_string

JsonPath = tuple[str | int, ...]


class Positions:
    """Offsets of values (`value`) and property names (`key`) by JSON path."""

    def __init__(self, text: str) -> None:
        self.values: dict[JsonPath, int] = {}
        self.keys: dict[JsonPath, int] = {}
        self._text = text
        # Only called on documents that json5format.loads accepted; if the two ever disagree
        # we lose positions (errors fall back to the nearest known parent), not correctness.
        with contextlib.suppress(AssertionError, IndexError, ValueError):
            self._value(0, ())

    def _token(self, pos: int) -> tuple[str, str, int, int]:
        m = TOKEN.match(self._text, pos)
        assert m is not None and m.lastgroup is not None
        kind = m.lastgroup
        return kind, m.group(kind), m.start(kind), m.end()

    def _value(self, pos: int, path: JsonPath) -> int:
        kind, token, start, end = self._token(pos)
        self.values[path] = start
        if kind != "p":
            return end
        close = "}" if token == "{" else "]"
        pos = end
        index = 0
        while True:
            kind, token, start, end = self._token(pos)
            if kind == "p" and token == close:
                return end
            if kind == "p" and token == ",":
                pos = end
                continue
            if close == "}":
                key = decode_string(token) if kind == "s" else decode_identifier(token)
                self.keys[(*path, key)] = start
                _, colon, _, pos = self._token(end)
                assert colon == ":"
                pos = self._value(pos, (*path, key))
            else:
                pos = self._value(pos, (*path, index))
                index += 1

    def value_offset(self, path: JsonPath) -> int:
        """Offset of the value at `path`, or of its nearest recorded ancestor."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, 0)

    def key_offset(self, path: JsonPath) -> int:
        """Offset of the property name that ends `path` (the value's when there is none)."""
        return self.keys.get(path, self.value_offset(path))


def format_path(path: JsonPath) -> str:
    """`("services", 0, "health")` -> `services[0].health`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
