"""A path into a JSON document, as `js-paths --get PATH` takes it, and the value it names.

Every syntax that js-paths prints is read back:

    gron     json.a.b[0]   json["x y"]      (the leading `json` is the document)
    jq       .a.b[0]       .["x y"]   .     (`.` alone is the document)
    dotted   a.b.0         a."x y"          (also a.b[0]: brackets after any key)
    pointer  /a/b/0        /x y   ""        (RFC 6901: `~1` is `/`, `~0` is `~`; "" is the document)

A bare number (`.0`, `/0`) is an index into an array and a key into an object, as in RFC 6901;
`[0]` is only an index and `["0"]` only a key. A path that starts with `json` followed by `.`,
`[` or nothing is gron's; write a top-level key named `json` as `.json` or `/json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_STRING = r'"(?:[^"\\]|\\.)*"'
_BRACKET = re.compile(rf"\.?\[(?:([0-9]+)|({_STRING}))\]")
_DOTTED = re.compile(rf"\.(?:({_STRING})|([^.\[\]\"\s]+))")
_DIGITS = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_JQ_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class PathSyntaxError(ValueError):
    """PATH is not a path: `str()` says where (1-based column) and what was expected."""


class PathNotFound(LookupError):
    """PATH names nothing in the document: `str()` says which step failed and what was there."""


@dataclass(frozen=True)
class Step:
    """One step down: an object's `key`, an array's `index`, or (a bare number) either."""

    key: str | None
    index: int | None

    def text(self) -> str:
        if self.key is None:
            return f"[{self.index}]"
        if self.index is not None or _JQ_IDENT.match(self.key):
            return f".{self.key}"
        return f"[{json.dumps(self.key, ensure_ascii=False)}]"


def parse(text: str) -> list[Step]:
    """The steps of PATH in any of the syntaxes above."""
    if text.startswith("/") or text == "":
        return [_pointer_step(part) for part in text.split("/")[1:]]
    if text == ".":
        return []
    offset = 0
    if text.startswith("json") and text[4:5] in ("", ".", "["):
        body, offset = text[4:], 4
    elif text.startswith((".", "[")):
        body = text
    else:
        body, offset = "." + text, -1  # dotted: the first key has no dot of its own
    steps: list[Step] = []
    pos = 0
    while pos < len(body):
        if match := _BRACKET.match(body, pos):
            number, string = match.groups()
            steps.append(Step(None, int(number)) if number is not None else Step(_key(string), None))
        elif match := _DOTTED.match(body, pos):
            string, bare = match.groups()
            if string is not None:
                steps.append(Step(_key(string), None))
            else:
                steps.append(Step(bare, int(bare) if _DIGITS.match(bare) else None))
        else:
            column = max(pos + offset + 1, 1)
            raise PathSyntaxError(f'at column {column}: expected .key, [index] or ["key"]')
        pos = match.end()
    return steps


def _key(literal: str) -> str:
    try:
        value = json.loads(literal)
    except json.JSONDecodeError as exc:
        raise PathSyntaxError(f"bad quoted key {literal}: {exc.msg}") from None
    assert isinstance(value, str)
    return value


def _pointer_step(part: str) -> Step:
    key = part.replace("~1", "/").replace("~0", "~")
    return Step(key, int(key) if _DIGITS.match(key) else None)


def lookup(document: object, steps: Sequence[Step]) -> object:
    """The value the steps lead to; PathNotFound names the first step that leads nowhere."""
    node = document
    taken = ""  # the steps so far as jq spells them, each as the node's kind read it
    for step in steps:
        where = taken or "."
        if isinstance(node, dict) and step.key is not None and step.key in node:
            node = node[step.key]
            taken += Step(step.key, None).text()
        elif isinstance(node, list) and step.index is not None and step.index < len(node):
            node = node[step.index]
            taken += f"[{step.index}]"
        elif isinstance(node, list) and step.index is not None:
            raise PathNotFound(f"no index {step.index} in the array at {where} ({len(node)} items)")
        else:
            raise PathNotFound(f"no {_wanted(step, node)} in {_kind(node)} at {where}")
    return node


def _wanted(step: Step, node: object) -> str:
    key = None if step.key is None else f"key {json.dumps(step.key, ensure_ascii=False)}"
    index = None if step.index is None else f"index {step.index}"
    if isinstance(node, dict):
        return key or str(index)
    if isinstance(node, list):
        return index or str(key)
    return " or ".join(w for w in (key, index) if w)


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "the object"
    if isinstance(value, list):
        return "the array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    return "a number"
