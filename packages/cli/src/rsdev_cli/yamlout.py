"""JSON5 syntax trees to ruamel.yaml documents, comments and key order kept, safe for YAML 1.1.

YAML 1.1 readers (PyYAML, many older tools) read `yes`, `no`, `on`, `off`, `y`, `n`, `1:20`,
`012`, `2001-01-01` and `1e+5`'s neighbours differently from YAML 1.2. Every string, key or value,
that either version would resolve to something other than a string is written double-quoted,
and floats are written with a `.` in the mantissa (`1.0e+300`), which YAML 1.1 requires.

Comments: an element's leading comments go before its key or item, its end-of-line comments
after it; a container's comments after its last element move before the next element that
follows in the document, and the document's trailing ones to the end.
"""

from __future__ import annotations

import io
import math
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import Comment as CommentAttribute
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from json5format.cst import BlankLine, Comment, Document, Element, Node, ObjectNode
from json5format.values import scalar_value

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVERS = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))
# Looser than either resolver on purpose: anything that starts like a number or a date, and
# every spelling of the YAML 1.1 booleans and nulls.
_LOOKS_TYPED = re.compile(r"[-+]?(?:\.?[0-9]|\.inf|\.nan)|(?:y|n|yes|no|on|off|true|false|null|~)\Z", re.IGNORECASE)


def needs_quotes(text: str) -> bool:
    """Should this string be double-quoted: would a plain scalar read back as something else?"""
    # Not printable (line breaks, NEL, BOM, controls): ruamel may write some plain, where a
    # reader folds them; double quotes escape them.
    if text == "" or not text.isprintable() or _LOOKS_TYPED.match(text) or text in ("=", "<<"):
        return True
    return any(r.resolve(ScalarNode, text, (True, False)) != _STR_TAG for r in _RESOLVERS)


def safe_str(text: str) -> str:
    return DoubleQuotedScalarString(text) if needs_quotes(text) else text


def comment_lines(comment: Comment) -> list[str]:
    text = comment.text
    if not comment.is_block:
        return [text[2:].strip()]
    body = text[2:-2].strip("\n")
    lines = [line.strip() for line in body.splitlines()]
    return [line[1:].strip() if line.startswith("*") else line for line in lines] or [""]


def _trivia_lines(entries: tuple[Comment | BlankLine, ...]) -> list[str]:
    return [line for entry in entries if isinstance(entry, Comment) for line in comment_lines(entry)]


class _Builder:
    def __init__(self, indent: int) -> None:
        self.indent = indent
        self.pending: list[str] = []

    def value(self, node: Node, column: int) -> object:
        if isinstance(node, str):
            value = scalar_value(node)
            return safe_str(value) if isinstance(value, str) else value
        self.pending += [line for c in node.open_comments for line in comment_lines(c)]
        container: CommentedMap | CommentedSeq = CommentedMap() if isinstance(node, ObjectNode) else CommentedSeq()
        for index, element in enumerate(node.elements):
            self.element(container, index, element, column)
        self.pending += _trivia_lines(node.trailing)
        return container

    def element(self, container: CommentedMap | CommentedSeq, index: int, element: Element, column: int) -> None:
        before = self.pending + _trivia_lines(element.leading)
        self.pending = []
        if isinstance(container, CommentedMap):
            key: str | int = safe_str(element.key or "")
            container[key] = self.value(element.value, column + self.indent)
        else:
            key = index
            container.append(self.value(element.value, column + self.indent + 2))
        if before:
            container.yaml_set_comment_before_after_key(key, before="\n".join(before), indent=column)
        eol = [line for c in element.eol for line in comment_lines(c)]
        if eol:
            container.yaml_add_eol_comment("# " + " ".join(eol), key)


def from_document(document: Document, indent: int = 2, column: int = 0) -> tuple[object, list[str], list[str]]:
    """The YAML value of a JSON5 document (written at `column`), with comment lines before and after it."""
    builder = _Builder(indent)
    head = _trivia_lines(document.leading)
    value = builder.value(document.value, column)
    tail = (
        [line for c in document.eol for line in comment_lines(c)] + builder.pending + _trivia_lines(document.trailing)
    )
    return value, head, tail


def make_safe(value: object) -> object:
    """Quote the strings of an already loaded YAML or JSON value, keeping ruamel's comments."""
    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[safe_str(key) if isinstance(key, str) else key] = make_safe(item)
        if isinstance(value, CommentedMap):
            setattr(out, CommentAttribute.attrib, value.ca)
        return out
    if isinstance(value, list):
        seq = CommentedSeq(make_safe(item) for item in value)
        if isinstance(value, CommentedSeq):
            setattr(seq, CommentAttribute.attrib, value.ca)
        return seq
    if isinstance(value, str) and not isinstance(value, DoubleQuotedScalarString):
        return safe_str(value)
    return value


def _float(representer: RoundTripRepresenter, data: float) -> ScalarNode:
    if math.isnan(data):
        text = ".nan"
    elif math.isinf(data):
        text = ".inf" if data > 0 else "-.inf"
    else:
        text = repr(data)
        mantissa, e, exponent = text.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        if e and exponent[0] not in "+-":
            exponent = "+" + exponent
        text = mantissa + (f"e{exponent}" if e else "")
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


def _null(representer: RoundTripRepresenter, data: None) -> ScalarNode:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def yaml_writer(indent: int = 2, width: int = 80) -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=indent, sequence=indent + 2, offset=indent)
    yaml.width = width
    yaml.representer.add_representer(float, _float)
    yaml.representer.add_representer(type(None), _null)
    return yaml


def dump(value: object, yaml: YAML, head: list[str] = (), tail: list[str] = ()) -> str:  # type: ignore[assignment]
    stream = io.StringIO()
    for line in head:
        stream.write(f"# {line}".rstrip() + "\n")
    yaml.dump(value, stream)
    for line in tail:
        stream.write(f"# {line}".rstrip() + "\n")
    return stream.getvalue()
