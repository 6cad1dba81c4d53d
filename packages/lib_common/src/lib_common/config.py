"""Loading JSON5 configuration with errors that say where and why.

Parse errors read `FILE:LINE:COL: message`; value errors name the JSON path
(`config.json5: tenants[1].priority: expected an integer, found "high"`). Unknown keys are
errors too: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import json5

from lib_common.errors import ConfigError

_JSON5_ERROR = re.compile(r"^<string>:(\d+) (.*) at column (\d+)$")

T = TypeVar("T")


def load_json5(path: str | Path) -> Section:
    """Read and parse a JSON5 file whose top level is an object."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    return parse_json5(text, source)


def parse_json5(text: str, source: str = "<config>") -> Section:
    try:
        data = json5.loads(text)
    except ValueError as exc:
        match = _JSON5_ERROR.match(str(exc))
        if match:
            line, message, col = match.groups()
            raise ConfigError(f"{source}:{line}:{col}", message[0].lower() + message[1:]) from None
        raise ConfigError(source, str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(source, f"expected an object at the top level, found {_kind(data)}")
    return Section(data, source, "")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Section:
    """A JSON object in a config file, read with typed accessors that know their path."""

    def __init__(self, data: dict[str, object], source: str, path: str) -> None:
        self._data = data
        self.source = source
        self.path = path

    def where(self, key: str | None = None) -> str:
        path = self.path if key is None else (f"{self.path}.{key}" if self.path else key)
        return f"{self.source}: {path}" if path else self.source

    def error(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(self.where(key), message)

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def only(self, allowed: Iterable[str]) -> None:
        """Reject keys outside `allowed`: a typo must not silently fall back to a default."""
        allowed = list(allowed)
        for key in self._data:
            if key not in allowed:
                raise self.error(key, f"unknown key; expected one of {', '.join(allowed)}")

    def _get(self, key: str, default: object, expected: str) -> object:
        if key not in self._data:
            if default is _REQUIRED:
                raise self.error(key, f"missing; expected {expected}")
            return default
        return self._data[key]

    def optional_str(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, found {_kind(value)}")
        return value

    def required_str(self, key: str) -> str:
        value = self._get(key, _REQUIRED, "a string")
        if not isinstance(value, str) or not value:
            raise self.error(key, f"expected a non-empty string, found {_kind(value)}")
        return value

    def integer(self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._get(key, default, "an integer")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, found {_kind(value)}")
        return self._range(key, value, minimum, maximum)

    def number(self, key: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
        value = self._get(key, default, "a number")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise self.error(key, f"expected a number, found {_kind(value)}")
        return self._range(key, float(value), minimum, maximum)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default, "true or false")
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, found {_kind(value)}")
        return value

    def optional_str_list(self, key: str) -> list[str] | None:
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of strings, found {_kind(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", f"expected a string, found {_kind(item)}")
        return list(value)

    def section(self, key: str) -> Section:
        """A nested object; an absent key reads as an empty object."""
        value = self._data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"expected an object, found {_kind(value)}")
        return Section(value, self.source, f"{self.path}.{key}" if self.path else key)

    def sections(self, key: str) -> list[Section]:
        value = self._data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of objects, found {_kind(value)}")
        base = f"{self.path}.{key}" if self.path else key
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise ConfigError(f"{self.source}: {base}[{i}]", f"expected an object, found {_kind(item)}")
            out.append(Section(item, self.source, f"{base}[{i}]"))
        return out

    def _range(self, key: str, value: T, minimum: object, maximum: object) -> T:
        if minimum is not None and value < minimum:  # type: ignore[operator]
            raise self.error(key, f"must be at least {minimum}, found {value}")
        if maximum is not None and value > maximum:  # type: ignore[operator]
            raise self.error(key, f"must be at most {maximum}, found {value}")
        return value


class _Sentinel:
    pass


_REQUIRED = _Sentinel()
