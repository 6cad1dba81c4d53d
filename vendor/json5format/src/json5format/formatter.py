"""`format`: a JSON5 document laid out in one style, keeping every comment and literal.

The layout follows Google's json5format: one element per line, indented by `indent` spaces,
keys unquoted where they are ASCII identifiers, literals and string quotes as written, a comma
after every element (the last one too, with `trailing_commas`). Each comment stays with its
element (see `cst`); runs of blank lines between elements become one. Rendering walks the tree
with an explicit stack, so depth is bounded only by the parser's `max_depth`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .collector import paused
from .cst import ArrayNode, BlankLine, Comment, Container, Document, Element, Trivia
from .options import FormatOptions
from .parser import parse
from .tokens import decode_string, is_ascii_identifier

_LINES = re.compile("\r\n|[\n\r\u2028\u2029]")
_Task = tuple[Element, int, bool, bool, tuple[str, ...]] | str


class _PropertyOrder:
    """`FormatOptions.property_order`, looked up by path."""

    def __init__(self, order: Mapping[str, Sequence[str]]) -> None:
        self._exact: dict[tuple[str, ...], dict[str, int]] = {}
        self._patterns: list[tuple[int, int, tuple[str, ...], dict[str, int]]] = []
        for index, (path, names) in enumerate(order.items()):
            segments = tuple(path.split(".")) if path else ()
            priorities = {name: rank for rank, name in reversed(list(enumerate(names)))}
            if "*" in segments:
                self._patterns.append((segments.count("*"), index, segments, priorities))
            else:
                self._exact[segments] = priorities
        self._patterns.sort(key=lambda pattern: pattern[:2])

    def priorities(self, path: tuple[str, ...]) -> dict[str, int] | None:
        found = self._exact.get(path)
        if found is not None:
            return found
        for _, _, segments, priorities in self._patterns:
            if len(segments) == len(path) and all(s == "*" or s == p for s, p in zip(segments, path, strict=True)):
                return priorities
        return None


def format(text: str, options: FormatOptions | None = None, *, source: str = "<input>") -> str:
    """Format a JSON5 document; raises ParseError if `text` is not JSON5."""
    with paused():
        return render(parse(text, source=source), options)


def render(document: Document, options: FormatOptions | None = None) -> str:
    """Lay out a parsed document as text, ending with a line break."""
    with paused():
        return _render(document, options)


def _render(document: Document, options: FormatOptions | None) -> str:
    options = options or FormatOptions()
    order = _PropertyOrder(options.property_order) if options.property_order else None
    unit = " " * options.indent
    out: list[str] = []
    write = out.append
    root = Element(document.value, None, "", document.leading, document.eol)
    tasks: list[_Task] = [_trivia(document.trailing, "", first=False, last=True), (root, 0, True, False, ())]
    while tasks:
        task = tasks.pop()
        if isinstance(task, str):
            write(task)
            continue
        element, depth, first, comma, path = task
        indent = unit * depth
        if element.leading:
            write(_trivia(element.leading, indent, first=first, last=False))
        head = indent + _key(element) if element.key is not None else indent
        tail = ("," if comma else "") + _eol(element.eol) + "\n"
        value = element.value
        if type(value) is str:
            write(head + value + tail)
            continue
        assert isinstance(value, Container)
        brackets = "[]" if type(value) is ArrayNode else "{}"
        elements = value.elements
        has_comments = value.has_comments
        if not elements and not has_comments:
            write(head + brackets + tail)
            continue
        if len(elements) == 1 and options.collapse_containers_of_one and not has_comments:
            only = elements[0]
            if type(only.value) is str and not only.eol and not any(type(e) is Comment for e in only.leading):
                inner = _key(only) + only.value if only.key is not None else only.value
                write(f"{head}{brackets[0]} {inner} {brackets[1]}{tail}")
                continue
        write(head + brackets[0] + _eol(value.open_comments) + "\n")
        tasks.append(indent + brackets[1] + tail)
        tasks.append(_trivia(value.trailing, indent + unit, first=not elements, last=True))
        if type(value) is ArrayNode:
            if options.sort_arrays and all(type(e.value) is str for e in elements):
                elements = sorted(elements, key=_sort_key)
            paths: list[tuple[str, ...]] = [(*path, str(i)) for i in range(len(elements))] if order else []
        else:
            priorities = order.priorities(path) if order else None
            if priorities:
                rest = len(priorities)
                elements = sorted(elements, key=lambda e: priorities.get(e.key or "", rest))
            paths = [(*path, e.key or "") for e in elements] if order else []
        last = len(elements) - 1
        trailing_commas = options.trailing_commas
        for index in range(last, -1, -1):
            child_path = paths[index] if order else ()
            tasks.append((elements[index], depth + 1, index == 0, index < last or trailing_commas, child_path))
    return "".join(out)


def _key(element: Element) -> str:
    text = element.key_text
    if text[0] not in "\"'" and "\\" not in text:
        return text + ": "
    key = element.key or ""
    return (key if is_ascii_identifier(key) else text) + ": "


def _sort_key(element: Element) -> tuple[str, str]:
    text = element.value
    assert isinstance(text, str)
    if text[0] in "\"'":
        text = decode_string(text)
    return text.lower(), text


def _eol(comments: tuple[Comment, ...]) -> str:
    if not comments:
        return ""
    return " " + " ".join("\n".join(line.rstrip() for line in _LINES.split(c.text)) for c in comments)


def _trivia(entries: Trivia, indent: str, *, first: bool, last: bool) -> str:
    """Comments each on its own line and blank lines (a run of them as one)."""
    lines: list[str] = []
    blank = first  # a blank line right after an opening bracket is dropped
    for entry in entries:
        if type(entry) is BlankLine:
            if not blank:
                lines.append("\n")
                blank = True
            continue
        assert isinstance(entry, Comment)
        lines.append(indent + _comment(entry, indent) + "\n")
        blank = False
    if last and lines and lines[-1] == "\n":
        lines.pop()
    return "".join(lines)


def _comment(comment: Comment, indent: str) -> str:
    """A comment on its own line; later lines of a block comment move with its first line."""
    if comment.column < 0:
        return comment.text.rstrip()
    lines = [line.rstrip() for line in _LINES.split(comment.text)]
    shift = comment.column
    if all(not line or (len(line) - len(line.lstrip(" \t"))) >= shift for line in lines[1:]):
        lines[1:] = [indent + line[shift:] if line else "" for line in lines[1:]]
    return "\n".join(lines)
