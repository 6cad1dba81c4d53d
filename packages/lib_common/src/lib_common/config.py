"""Loading JSON5 configuration with errors that say where and why.

Parse errors read `FILE:LINE:COL: message`; value errors name the JSON path
(`config.json5: tenants[1].priority: expected an integer, found "high"`). Unknown keys are
errors too: a typo must not silently fall back to a default.

Loading also decrypts every string that is an `rsdev:v1:` token (lib_common.secrets), with its
JSON path as associated data, so a token copied to another key does not decrypt. `load_config`
adds, in this order: environment overrides (`RSDEV__SECTION__KEY=value`, typed by the schema),
token decryption, and validation against a `lib_common.schema` schema, and reports every
problem at once (`ConfigErrors`, one `where: message` a line) rather than the first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import json5format
from json5format.errors import ParseError
from json5format.locate import value_positions
from lib_common import secrets
from lib_common.errors import ConfigError, ConfigErrors, SecretError
from lib_common.schema import Array, Field, Object, Problem, coerce, validate
from lib_common.schema import kind as _kind

T = TypeVar("T")


ENV_PREFIX = "RSDEV__"


def load_json5(path: str | Path, *, key: secrets.MasterKey | None = None) -> Section:
    """Read and parse a JSON5 file whose top level is an object, decrypting its tokens."""
    return parse_json5(_read(path), str(path), key=key)


def load_config(
    path: str | Path,
    schema: Object | None = None,
    *,
    env: Mapping[str, str] | None = None,
    key: secrets.MasterKey | None = None,
) -> Section:
    """`load_json5` with environment overrides and schema validation, reporting every problem."""
    return parse_config(_read(path), str(path), schema, env=env, key=key)


def parse_config(
    text: str,
    source: str = "<config>",
    schema: Object | None = None,
    *,
    env: Mapping[str, str] | None = None,
    key: secrets.MasterKey | None = None,
) -> Section:
    env = os.environ if env is None else env
    data = _parse_object(text, source)
    problems: list[ConfigError] = []
    for name in sorted(env):
        if name.startswith(ENV_PREFIX):
            try:
                _override(data, schema, name, env[name])
            except ValueError as exc:
                problems.append(ConfigError(name, str(exc)))
    problems += decrypt_tokens(data, source, key=key, env=env)
    if schema is not None:
        positions = value_positions(text)
        problems += [_problem(source, problem, positions) for problem in validate(data, schema)]
    if problems:
        raise ConfigErrors(problems)
    return Section(data, source, "", value_positions(text))


def decrypt_tokens(
    data: object, source: str, *, key: secrets.MasterKey | None = None, env: Mapping[str, str] | None = None
) -> list[ConfigError]:
    """Replace every token string in `data` by its plaintext, in place; return what failed."""
    problems: list[ConfigError] = []
    stack: list[tuple[dict[str, object] | list[object], str]] = []
    if isinstance(data, dict | list):
        stack.append((data, ""))
    while stack:
        container, path = stack.pop()
        items = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
        for name, value in items:
            child = secrets.config_path(path, name)
            if isinstance(value, dict | list):
                stack.append((value, child))
            elif secrets.is_token(value):
                assert isinstance(value, str)
                try:
                    if key is None:
                        key = secrets.load_master_key(env)
                    container[name] = secrets.decrypt(value, key, child)  # type: ignore[index]
                except SecretError as exc:
                    problems.append(ConfigError(f"{source}: {child}", str(exc)))
    return problems


def _override(data: dict[str, object], schema: Object | None, name: str, text: str) -> None:
    """Apply `RSDEV__A__B=text` to data["a"]["b"]: names match keys case-insensitively."""
    segments = name[len(ENV_PREFIX) :].split("__")
    if not all(segments):
        raise ValueError(f"expected {ENV_PREFIX}SECTION__KEY, found an empty segment")
    node: dict[str, object] | list[object] = data
    field: Field | None = schema
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(node, list):
            if not segment.isdigit() or int(segment) >= len(node):
                raise ValueError(f"no item {segment} in the array at {'.'.join(segments[:depth]).lower()}")
            index = int(segment)
            field = getattr(field, "items", None)
            if last:
                node[index] = _typed(text, field)
                return
            child = node[index]
        else:
            key = _match_key(segment, node, field)
            field = _field_of(field, key)
            if field is None and schema is not None:
                raise ValueError(f"no key {key!r} in the schema")
            if last:
                node[key] = _typed(text, field)
                return
            if key not in node and isinstance(field, Array):
                raise ValueError(f"no array {key!r} in the file to set item {segments[depth + 1]} of")
            child = node.setdefault(key, {})
        if not isinstance(child, dict | list):
            raise ValueError(f"{segment.lower()} is {_kind(child)}, not an object or array")
        node = child


def _match_key(segment: str, node: dict[str, object], field: Field | None) -> str:
    names = list(node)
    if isinstance(field, Object):
        names += list(field.fields)
    for candidate in names:
        if candidate.lower() == segment.lower():
            return candidate
    return segment.lower()


def _field_of(field: Field | None, key: str) -> Field | None:
    if isinstance(field, Object):
        return field.fields.get(key, field.extra)
    return None


def _typed(text: str, field: Field | None) -> object:
    return text if field is None else coerce(text, field)


def _located(source: str, path: str, positions: Mapping[str, tuple[int, int]]) -> str:
    """`file:line:col: path` where the value sits (or, for a missing key, its object)."""
    at = positions.get(path)
    parent = path
    while at is None and parent:
        parent = parent.rpartition(".")[0] if "." in parent else ""
        at = positions.get(parent)
    place = f"{source}:{at[0]}:{at[1]}" if at is not None else source
    return f"{place}: {path}" if path else place


def _problem(source: str, problem: Problem, positions: Mapping[str, tuple[int, int]]) -> ConfigError:
    return ConfigError(_located(source, problem.path, positions), problem.message)


def _read(path: str | Path) -> str:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    return text


def parse_json5(text: str, source: str = "<config>", *, key: secrets.MasterKey | None = None) -> Section:
    data = _parse_object(text, source)
    problems = decrypt_tokens(data, source, key=key)
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)
    return Section(data, source, "", value_positions(text))


def _parse_object(text: str, source: str) -> dict[str, object]:
    try:
        data = json5format.loads(text, source=source)
    except ParseError as exc:
        raise ConfigError(f"{source}:{exc.line}:{exc.column}", exc.message) from None
    if not isinstance(data, dict):
        raise ConfigError(source, f"expected an object at the top level, found {_kind(data)}")
    return data


class Section:
    """A JSON object in a config file, read with typed accessors that know their path."""

    def __init__(
        self, data: dict[str, object], source: str, path: str, positions: Mapping[str, tuple[int, int]] | None = None
    ) -> None:
        self._data = data
        self.source = source
        self.path = path
        self._positions: Mapping[str, tuple[int, int]] = positions or {}

    def where(self, key: str | None = None) -> str:
        """`file:line:col: path` of a value (of its object when the key is missing)."""
        path = self.path if key is None else (f"{self.path}.{key}" if self.path else key)
        return _located(self.source, path, self._positions)

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
        return Section(value, self.source, f"{self.path}.{key}" if self.path else key, self._positions)

    def sections(self, key: str) -> list[Section]:
        value = self._data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of objects, found {_kind(value)}")
        base = f"{self.path}.{key}" if self.path else key
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise ConfigError(
                    _located(self.source, f"{base}[{i}]", self._positions), f"expected an object, found {_kind(item)}"
                )
            out.append(Section(item, self.source, f"{base}[{i}]", self._positions))
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
