"""Reading configuration: a JSON5 file, then the environment, then flags; every problem at once.

    config = read_config(args.config, from_section, flags={"listen.port": Flag("--port", args.port)})

1. The file is parsed (no file: an empty object). A syntax error is `FILE:LINE:COL: message`.
2. Environment overrides `RSDEV__SECTION__KEY=value` set `section.key` (lib_common.overrides).
3. Flags, given as config paths, set values on top (None: the flag was not given).
4. Every `rsdev:v1:` token string is decrypted with its JSON path as associated data
   (lib_common.secrets), so a token copied to another key does not decrypt.
5. `build(root)` reads the result through `Section`'s typed accessors, which record each problem
   and return the default, so one read finds them all; a ConfigError that `build` raises (a
   cross-field check) joins them. Then `ConfigErrors` lists every problem, one a line:
   `file:line:col: path: message` for a value from the file, `RSDEV__LISTEN__PORT: message` for
   one from the environment, `--port: message` for a flag's.

Unknown keys are errors too: a typo must not silently fall back to a default. docs/config.md
is the user's side of all this.

`load_json5` / `parse_json5` give a Section whose accessors raise at the first problem, for
readers not yet on `read_config`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import json5format
from json5format.errors import ParseError
from json5format.locate import value_positions
from lib_common import secrets
from lib_common.errors import ConfigError, ConfigErrors, SecretError
from lib_common.overrides import ENV_PREFIX, Flag, Origins, apply_env, apply_flags, kind

T = TypeVar("T")

NO_FILE = "(no config file)"

__all__ = [
    "ENV_PREFIX",
    "NO_FILE",
    "Flag",
    "Loader",
    "Section",
    "load_json5",
    "parse_config",
    "parse_json5",
    "read_config",
]


def read_config(
    path: str | Path | None,
    build: Callable[[Section], T],
    *,
    flags: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    key: secrets.MasterKey | None = None,
) -> T:
    """`build(root)` of the file at `path` (None: no file) with the environment (os.environ by
    default) and `flags` on top; ConfigErrors lists every problem found."""
    if path is None:
        return parse_config("{}", build, source=NO_FILE, flags=flags, env=env, key=key)
    return parse_config(_read(path), build, source=str(path), flags=flags, env=env, key=key, base_dir=Path(path).parent)


def parse_config(
    text: str,
    build: Callable[[Section], T],
    *,
    source: str = "<config>",
    flags: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    key: secrets.MasterKey | None = None,
    base_dir: Path = Path("."),
) -> T:
    """`read_config` of a text; `source` names it in errors, `base_dir` is what relative paths in
    it are relative to."""
    data = _parse_object(text, source)
    problems: list[ConfigError] = []
    origins = Origins(source, value_positions(text), problems)
    apply_env(data, env, origins)
    apply_flags(data, flags or {}, origins)
    _decrypt_tokens(data, origins, key, env)
    try:
        config = build(Section(data, "", origins, base_dir))
    except ConfigErrors as exc:
        problems += exc.problems
    except ConfigError as exc:
        problems.append(exc)
    if problems:
        raise ConfigErrors(_unique(problems))
    return config


@dataclass(frozen=True, slots=True)
class Loader(Generic[T]):
    """A program's two ways in to its config, over its `build`: `load` (a file, or none, with
    the environment and flags) and `parse` (a text, for tests and tools)."""

    build: Callable[[Section], T]

    def load(
        self,
        path: str | Path | None,
        *,
        flags: Mapping[str, object] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> T:
        return read_config(path, self.build, flags=flags, env=env)

    def parse(
        self, text: str, source: str = "<config>", base_dir: Path = Path("."), *, env: Mapping[str, str] | None = None
    ) -> T:
        return parse_config(text, self.build, source=source, base_dir=base_dir, env=env)


def load_json5(path: str | Path, *, key: secrets.MasterKey | None = None) -> Section:
    """The file's top-level object as a Section that raises at the first problem (no overrides)."""
    return parse_json5(_read(path), str(path), key=key, base_dir=Path(path).parent)


def parse_json5(
    text: str, source: str = "<config>", *, key: secrets.MasterKey | None = None, base_dir: Path = Path(".")
) -> Section:
    data = _parse_object(text, source)
    problems: list[ConfigError] = []
    _decrypt_tokens(data, Origins(source, value_positions(text), problems), key, None)
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)
    return Section(data, "", Origins(source, value_positions(text), None), base_dir)


def _decrypt_tokens(
    data: dict[str, object], origins: Origins, key: secrets.MasterKey | None, env: Mapping[str, str] | None
) -> None:
    """Replace every token string in `data` by its plaintext, in place; report what fails."""
    stack: list[tuple[dict[str, object] | list[object], str]] = [(data, "")]
    while stack:
        container, path = stack.pop()
        items = list(container.items()) if isinstance(container, dict) else list(enumerate(container))
        for name, value in items:
            child = secrets.config_path(path, name)
            if isinstance(value, dict | list):
                stack.append((value, child))
            elif isinstance(value, str) and secrets.is_token(value):
                try:
                    if key is None:
                        key = secrets.load_master_key(env)
                    container[name] = secrets.decrypt(value, key, child)  # type: ignore[index]
                except SecretError as exc:
                    origins.report(ConfigError(origins.locate(child), str(exc)))


def _unique(problems: list[ConfigError]) -> list[ConfigError]:
    seen: set[str] = set()
    out = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            out.append(problem)
    return out


def _read(path: str | Path) -> str:
    source = str(path)
    try:
        return json5format.read_document(path)
    except OSError as exc:
        raise ConfigError(source, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json5format.DocumentTooLarge as exc:
        raise ConfigError(source, str(exc)) from None


def _parse_object(text: str, source: str) -> dict[str, object]:
    try:
        data = json5format.loads(text, source=source, unique_keys=True)
    except ParseError as exc:
        raise ConfigError(f"{source}:{exc.line}:{exc.column}", exc.message) from None
    if not isinstance(data, dict):
        raise ConfigError(source, f"expected an object at the top level, found {kind(data)}")
    return data


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class Section:
    """A JSON object in a configuration, read with typed accessors that know their path.

    An accessor that finds a problem reports it (read_config collects them all; a Section from
    `parse_json5` raises it) and returns the default, so reading goes on. `problem(key, message)`
    reports one of the reader's own (a value out of the accessors' reach, like a bad URL)."""

    def __init__(self, data: dict[str, object], path: str, origins: Origins, base_dir: Path = Path(".")) -> None:
        self._data = data
        self.path = path
        self._origins = origins
        self.base_dir = base_dir  # relative paths in the config are relative to its file

    @property
    def source(self) -> str:
        return self._origins.source

    def _path(self, key: str | None) -> str:
        return self.path if key is None else secrets.config_path(self.path, key)

    def where(self, key: str | None = None) -> str:
        """Where a value came from: `file:line:col: path` (its object's place when the key is
        missing), or the environment variable or flag that set it."""
        return self._origins.locate(self._path(key))

    def error(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(self.where(key), message)

    def problem(self, key: str | None, message: str) -> None:
        """Report a problem with `key` (None: this object) and read on."""
        self._origins.report(self.error(key, message))

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def keys(self) -> list[str]:
        return list(self._data)

    def only(self, allowed: Iterable[str]) -> None:
        """Report every key outside `allowed`: a typo must not silently fall back to a default."""
        allowed = list(allowed)
        for key in self._data:
            if key not in allowed:
                self.problem(key, f"unknown key; expected one of {', '.join(allowed)}")

    def _env_text(self, key: str) -> str | None:
        """The text an environment variable gave this key, as written."""
        return self._origins.texts.get(self._path(key))

    def optional_str(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None:
            return None
        text = self._env_text(key)
        if text is not None and isinstance(value, int | float):  # RSDEV__PREFIX=123 is "123"
            return text
        if not isinstance(value, str):
            self.problem(key, f"expected a string, found {kind(value)}")
            return None
        return self._text(key, value)

    def _text(self, key: str, value: str) -> str | None:
        """`value` unless it holds a NUL, which no path, URL, name or token may (the OS refuses it
        in a path with a ValueError far from the config: found by the fuzzer)."""
        if "\x00" in value:
            self.problem(key, "a NUL character (\\u0000) is not allowed in a configuration string")
            return None
        return value

    def required_str(self, key: str) -> str:
        if key not in self._data:
            self.problem(key, "missing; expected a string")
            return ""
        value = self._data[key]
        text = self._env_text(key)
        if text is not None and isinstance(value, int | float):
            return text
        if not isinstance(value, str) or not value:
            self.problem(key, f"expected a non-empty string, found {kind(value)}")
            return ""
        return self._text(key, value) or ""

    def integer(self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"expected an integer, found {kind(value)}")
            return default
        return self._range(key, value, default, minimum, maximum)

    def number(self, key: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
        value = self._data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.problem(key, f"expected a number, found {kind(value)}")
            return default
        return self._range(key, float(value), default, minimum, maximum)

    def flag(self, key: str, default: bool) -> bool:
        value = self._data.get(key, default)
        text = self._env_text(key)
        if text is not None and text.strip().lower() in _TRUE | _FALSE:  # RSDEV__TLS=yes
            return text.strip().lower() in _TRUE
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, found {kind(value)}")
            return default
        return value

    def optional_str_list(self, key: str) -> list[str] | None:
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, str) and self._env_text(key) is not None:  # RSDEV__SYMBOLS=AAPL,MSFT
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            self.problem(key, f"expected an array of strings, found {kind(value)}")
            return None
        bad = [(i, item) for i, item in enumerate(value) if not isinstance(item, str)]
        for i, item in bad:
            self.problem(f"{key}[{i}]", f"expected a string, found {kind(item)}")
        nul = [i for i, item in enumerate(value) if isinstance(item, str) and self._text(f"{key}[{i}]", item) is None]
        return None if bad or nul else list(value)

    def section(self, key: str) -> Section:
        """A nested object; an absent key (or a bad one, reported) reads as an empty object."""
        value = self._data.get(key, {})
        if not isinstance(value, dict):
            self.problem(key, f"expected an object, found {kind(value)}")
            value = {}
        return Section(value, self._path(key), self._origins, self.base_dir)

    def sections(self, key: str) -> list[Section]:
        """An array of objects; an absent key reads as an empty array, bad items are reported."""
        value = self._data.get(key, [])
        if not isinstance(value, list):
            self.problem(key, f"expected an array of objects, found {kind(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            path = f"{self._path(key)}[{i}]"
            if isinstance(item, dict):
                out.append(Section(item, path, self._origins, self.base_dir))
            else:
                self._origins.report(ConfigError(self._origins.locate(path), f"expected an object, found {kind(item)}"))
        return out

    def _range(self, key: str, value: T, default: T, minimum: object, maximum: object) -> T:
        if minimum is not None and value < minimum:  # type: ignore[operator]
            self.problem(key, f"must be at least {minimum}, found {value}")
            return default
        if maximum is not None and value > maximum:  # type: ignore[operator]
            self.problem(key, f"must be at most {maximum}, found {value}")
            return default
        return value
