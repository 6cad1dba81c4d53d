"""json5format: a JSON5 parser and a comment-preserving formatter.

Public API::

    loads(text)            JSON5 text to dict/list/str/int/float/bool/None
    parse(text)            JSON5 text to a syntax tree (cst.Document) keeping comments
    format(text, options)  JSON5 text laid out in one style, every comment kept
    render(document)       a syntax tree back to text
    ParseError             what every function raises on bad input: `source:line:col: message`
    read_document(path)    a file's text, refused past MAX_DOCUMENT_BYTES (DocumentTooLarge)
"""

from .cst import Document
from .errors import ParseError
from .files import MAX_DOCUMENT_BYTES, DocumentTooLarge, read_document
from .formatter import format, render
from .options import FormatOptions
from .parser import parse
from .values import DEFAULT_MAX_DEPTH, loads

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "Document",
    "DocumentTooLarge",
    "FormatOptions",
    "ParseError",
    "format",
    "loads",
    "parse",
    "read_document",
    "render",
]
