"""Reading a provider's parsed JSON body (Yahoo's chart API, CNN's Fear & Greed): each helper
takes a value and its JSON path and returns it in the shape the parser needs, or raises
`PayloadError` naming the path and what was found there; the `optional_` ones give None instead,
for fields that never fail a parse."""

from __future__ import annotations

import math
from collections.abc import Mapping

from lib_common.errors import PayloadError


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)


def expect_object(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise PayloadError(path, f"expected an object, found {_kind(value)}")
    return value


def expect_list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise PayloadError(path, f"expected an array, found {_kind(value)}")
    return value


def expect_number(value: object, path: str) -> float:
    """A finite JSON number (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(path, f"expected a number, found {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf
    if not math.isfinite(number):
        raise PayloadError(path, f"expected a finite number, found {value!r:.40}")
    return number


def optional_number(value: object) -> float | None:
    """A finite number, or None for anything else: for optional fields that never fail a parse."""
    try:
        return expect_number(value, "")
    except PayloadError:
        return None


def optional_string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
