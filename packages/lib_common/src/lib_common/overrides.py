"""What goes on top of a config file (environment variables, then flags), and where each value came from.

Environment: `RSDEV__SECTION__KEY=value` sets `section.key`. The segments match the file's keys
case-insensitively (a key the file lacks is written in lower case); an all-digit segment indexes
an array the file has (`RSDEV__TENANTS__0__TOKEN`). The value is read as a JSON5 value when it
parses as one (`9000`, `true`, `null`, `"text"`, `[1, 2]`, `{a: 1}`), else taken as the string
it is (`127.0.0.1`, `AAPL,MSFT`); the accessor that reads it then types it: a string key takes
the text as written (`RSDEV__PREFIX=123` is "123"), a boolean one also takes yes/no/on/off/1/0,
a list of strings also takes comma-separated text.

Flags: a mapping from config path (`listen.port`) to the value given on the command line, None
when the flag was not given; a `Flag(name, value)` makes errors name the flag as typed. A path
segment ending in `?` (`publish?.redis_url`) sets the value only when that object is already
there, so a flag shared by two sections does not create one whose presence means something.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

import json5format
from json5format.errors import ParseError
from lib_common.errors import ConfigError
from lib_common.secrets import config_path

ENV_PREFIX = "RSDEV__"


@dataclass(frozen=True, slots=True)
class Flag:
    """A command-line value for a config path, with the flag's name for errors (`--port`)."""

    name: str
    value: object


def kind(value: object) -> str:
    """How an error message names a value it did not expect."""
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


class Origins:
    """Where the values of one configuration came from, and the sink for its problems (None:
    raise the first)."""

    def __init__(
        self, source: str, positions: Mapping[str, tuple[int, int]], problems: list[ConfigError] | None
    ) -> None:
        self.source = source
        self._positions = positions
        self._problems = problems
        # A path an override set (or made an object for) -> its variable or flag, and the path it set.
        self._labels: dict[str, tuple[str, str]] = {}
        self.texts: dict[str, str] = {}  # a path an environment variable set -> its text

    def report(self, error: ConfigError) -> None:
        if self._problems is None:
            raise error
        self._problems.append(error)

    def overridden(self, path: str, label: str, leaf: str) -> None:
        """`label`, setting `leaf`, made the value at `path` (and everything below it)."""
        for table in (self._labels, self.texts):
            for old in [p for p in table if _within(p, path)]:
                del table[old]
        self._labels[path] = (label, leaf)

    def locate(self, path: str) -> str:
        """`file:line:col: path` of a value from the file (its object's place when the key is
        missing); the variable or flag that set it otherwise (`RSDEV__A: a.b` below it)."""
        setters = [p for p in self._labels if _within(path, p)]
        if setters:
            label, leaf = self._labels[max(setters, key=len)]
            return label if leaf == path else f"{label}: {path}"
        at = self._positions.get(path)
        parent = path
        while at is None and parent:
            parent = parent.rpartition(".")[0] if "." in parent else ""
            at = self._positions.get(parent)
        place = f"{self.source}:{at[0]}:{at[1]}" if at is not None else self.source
        return f"{place}: {path}" if path else place


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith((f"{ancestor}.", f"{ancestor}["))


def env_value(text: str) -> object:
    """An environment variable's text as a JSON5 value when it parses as one, else the text."""
    try:
        return json5format.loads(text)
    except ParseError:
        return text


def apply_env(data: dict[str, object], env: Mapping[str, str] | None, origins: Origins) -> None:
    """Set every `RSDEV__A__B=value` of `env` (os.environ by default) in `data`, in name order."""
    env = os.environ if env is None else env
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        try:
            path, created = _set_env(data, name[len(ENV_PREFIX) :].split("__"), env_value(env[name]))
        except ValueError as exc:
            origins.report(ConfigError(name, str(exc)))
        else:
            for at in (created, path):
                if at is not None:
                    origins.overridden(at, name, path)
            origins.texts[path] = env[name]


def _set_env(data: dict[str, object], segments: list[str], value: object) -> tuple[str, str | None]:
    """Set the value; return its path, and that of the first object made on the way (if any)."""
    if not all(segments):
        raise ValueError(f"expected {ENV_PREFIX}SECTION__KEY, found an empty segment")
    node: dict[str, object] | list[object] = data
    path = ""
    created: str | None = None
    for depth, segment in enumerate(segments):
        name: str | int
        if isinstance(node, list):
            if not segment.isdigit() or int(segment) >= len(node):
                raise ValueError(f"no item {segment} in the array at {path}")
            name = int(segment)
        else:
            name = next((k for k in node if k.lower() == segment.lower()), segment.lower())
        path = config_path(path, name)
        if depth == len(segments) - 1:
            node[name] = value  # type: ignore[index]
            return path, created
        if isinstance(node, dict) and name not in node:
            node[name] = {}  # type: ignore[index]
            created = created or path
        child = node[name]  # type: ignore[index]
        if not isinstance(child, dict | list):
            raise ValueError(f"{path} is {kind(child)}, not an object or array")
        node = child
    raise AssertionError("unreachable")


def apply_flags(data: dict[str, object], flags: Mapping[str, object], origins: Origins) -> None:
    """Set every flag that was given (not None) at its config path; `a?.b` ones last, and only
    where `a` then exists."""
    given = [(path, value if isinstance(value, Flag) else Flag(f"flag {path}", value)) for path, value in flags.items()]
    given = [(path, flag) for path, flag in given if flag.value is not None]
    given.sort(key=lambda item: "?" in item[0])
    for path, flag in given:
        try:
            made = _set_flag(data, path, _plain(flag.value))
        except ValueError as exc:
            origins.report(ConfigError(flag.name, str(exc)))
        else:
            for at in made:
                origins.overridden(at, flag.name, made[-1])


def _set_flag(data: dict[str, object], path: str, value: object) -> list[str]:
    """Set the value; return the paths of the first object made on the way and of the value
    (none when a `?` object is absent)."""
    *parents, last = path.split(".")
    node = data
    done = ""
    created: str | None = None
    for segment in parents:
        name = segment.removesuffix("?")
        done = config_path(done, name)
        child = node.get(name)
        if child is None:
            if segment.endswith("?"):
                return []
            child = node[name] = {}
            created = created or done
        if not isinstance(child, dict):
            raise ValueError(f"{done} is {kind(child)}, not an object")
        node = child
    node[last] = value
    return [p for p in (created, config_path(done, last)) if p is not None]


def _plain(value: object) -> object:
    """A flag's value as the JSON a file would hold (tuples as arrays, paths as strings)."""
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    return value
