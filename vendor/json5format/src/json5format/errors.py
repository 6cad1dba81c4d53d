"""The one exception of json5format.

    Exception
    └── ParseError      a document is not JSON5; carries source, line, column, message

Positions are 1-based; columns count code points. Line terminators are those of JSON5
(spec section 6.1): LF, CR, CRLF, U+2028 and U+2029.
"""

from __future__ import annotations

import re

_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029]")


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based (line, column) of `offset` in `text`."""
    line = 1
    line_start = 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line += 1
        line_start = match.end()
    return line, offset - line_start + 1


class ParseError(Exception):
    """A JSON5 document failed to parse; `str()` gives `SOURCE:LINE:COL: message`."""

    def __init__(self, message: str, *, source: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column

    @classmethod
    def at(cls, text: str, offset: int, message: str, *, source: str) -> ParseError:
        """Build the error for `offset` in `text`."""
        line, column = line_and_column(text, offset)
        return cls(message, source=source, line=line, column=column)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments need help to survive pickling (multiprocessing, pytest-xdist).
        return (_rebuild, (self.message, self.source, self.line, self.column))


def _rebuild(message: str, source: str, line: int, column: int) -> ParseError:
    return ParseError(message, source=source, line=line, column=column)
