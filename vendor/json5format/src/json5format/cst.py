"""The concrete syntax tree of a JSON5 document: values, literals as written, and comments.

    Document    leading comments, the value, its end-of-line comments, trailing comments
    ObjectNode  elements: Element(key=..., key_text=...)  \\  both Containers, with comments
    ArrayNode   elements: Element(key=None)               /   after the open bracket and at the end
    str         a scalar: a string, number or literal exactly as written (see `scalar_kind`)

Comments belong to the element they describe: the ones on the lines before it (`leading`, where
a `BLANK_LINE` stands for one or more blank lines) and the ones after it on its last line
(`eol`). Comments after the last element are the container's `trailing` ones; comments after an
opening bracket on its line are its `open_comments`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final


@dataclass(slots=True)
class Comment:
    """A `// line` or `/* block */` comment, text as written."""

    text: str
    # 0-based column where the comment started, kept for block comments of several lines so
    # that their later lines can be re-indented with them; -1 when not needed.
    column: int = -1

    @property
    def is_block(self) -> bool:
        return self.text.startswith("/*")


class BlankLine:
    """One or more blank lines between comments or elements."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BLANK_LINE"


BLANK_LINE: Final = BlankLine()

Trivia = tuple[Comment | BlankLine, ...]


class ScalarKind(enum.Enum):
    STRING = "string"
    NUMBER = "number"  # Infinity and NaN too
    LITERAL = "literal"  # true, false, null


def scalar_kind(text: str) -> ScalarKind:
    """What a scalar's text (a string, number or literal, as written) is."""
    first = text[0]
    if first == '"' or first == "'":
        return ScalarKind.STRING
    if text in ("true", "false", "null"):
        return ScalarKind.LITERAL
    return ScalarKind.NUMBER


@dataclass(slots=True)
class Element:
    """An array item or an object property, with its comments."""

    value: Node
    key: str | None = None  # the property name, decoded
    key_text: str = ""  # the property name as written
    leading: Trivia = ()
    eol: tuple[Comment, ...] = ()


@dataclass(slots=True)
class Container:
    elements: list[Element] = field(default_factory=list)
    open_comments: tuple[Comment, ...] = ()
    trailing: Trivia = ()

    @property
    def has_comments(self) -> bool:
        return bool(self.open_comments) or any(isinstance(entry, Comment) for entry in self.trailing)


@dataclass(slots=True)
class ObjectNode(Container):
    pass


@dataclass(slots=True)
class ArrayNode(Container):
    pass


Node = str | ObjectNode | ArrayNode


@dataclass(slots=True)
class Document:
    value: Node
    leading: Trivia = ()
    eol: tuple[Comment, ...] = ()
    trailing: Trivia = ()
    source: str = "<input>"
