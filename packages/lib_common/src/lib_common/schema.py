"""A small declarative schema for config files, and a validator that finds every problem.

    SCHEMA = Object({
        "port": Int(minimum=1, maximum=65535),
        "feed": Str(enum=("synthetic", "yahoo", "redis")),
        "tenants": Array(Object({"name": Str(required=True), "priority": Int(minimum=0)})),
        "labels": Object({}, extra=Str()),       # any keys, string values
    })
    problems = validate(data, SCHEMA)            # [Problem(path="tenants[1].priority", ...)]

Unknown keys are problems unless the object names an `extra` schema for them: a typo must not
silently fall back to a default. `coerce` turns an environment variable's text into the type a
field wants (config.py's overrides).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lib_common.secrets import config_path


@dataclass(frozen=True, slots=True)
class Field:
    required: bool = field(default=False, kw_only=True)
    nullable: bool = field(default=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Str(Field):
    enum: tuple[str, ...] | None = None
    min_length: int = 0


@dataclass(frozen=True, slots=True)
class Int(Field):
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, slots=True)
class Number(Field):
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class Bool(Field):
    pass


@dataclass(frozen=True, slots=True)
class Anything(Field):
    pass


@dataclass(frozen=True, slots=True)
class Array(Field):
    items: Field = field(default_factory=Anything)
    min_items: int = 0
    max_items: int | None = None


@dataclass(frozen=True, slots=True)
class Object(Field):
    fields: Mapping[str, Field] = field(default_factory=dict)
    extra: Field | None = None  # the schema of keys not in `fields`; None makes them errors


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str


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


def validate(value: object, schema: Field, path: str = "") -> list[Problem]:
    """Every way `value` breaks `schema`, each with the JSON path where it was found."""
    problems: list[Problem] = []
    _check(value, schema, path, problems)
    return problems


def _check(value: object, schema: Field, path: str, out: list[Problem]) -> None:
    if value is None and (schema.nullable or isinstance(schema, Anything)):
        return
    if isinstance(schema, Str):
        if not isinstance(value, str):
            out.append(Problem(path, f"expected a string, found {kind(value)}"))
        elif schema.enum is not None and value not in schema.enum:
            out.append(Problem(path, f"expected one of {', '.join(schema.enum)}, found {value!r}"))
        elif len(value) < schema.min_length:
            out.append(Problem(path, f"expected at least {schema.min_length} characters, found {len(value)}"))
    elif isinstance(schema, Int):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(Problem(path, f"expected an integer, found {kind(value)}"))
        else:
            _range(value, schema.minimum, schema.maximum, path, out)
    elif isinstance(schema, Number):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            out.append(Problem(path, f"expected a number, found {kind(value)}"))
        else:
            _range(value, schema.minimum, schema.maximum, path, out)
    elif isinstance(schema, Bool):
        if not isinstance(value, bool):
            out.append(Problem(path, f"expected true or false, found {kind(value)}"))
    elif isinstance(schema, Array):
        if not isinstance(value, list):
            out.append(Problem(path, f"expected an array, found {kind(value)}"))
            return
        if len(value) < schema.min_items:
            out.append(Problem(path, f"expected at least {schema.min_items} items, found {len(value)}"))
        if schema.max_items is not None and len(value) > schema.max_items:
            out.append(Problem(path, f"expected at most {schema.max_items} items, found {len(value)}"))
        for index, item in enumerate(value):
            _check(item, schema.items, config_path(path, index), out)
    elif isinstance(schema, Object):
        if not isinstance(value, dict):
            out.append(Problem(path, f"expected an object, found {kind(value)}"))
            return
        for key, item in value.items():
            child = schema.fields.get(key, schema.extra)
            if child is None:
                expected = ", ".join(schema.fields) or "no keys"
                out.append(Problem(config_path(path, key), f"unknown key; expected one of {expected}"))
            else:
                _check(item, child, config_path(path, key), out)
        for key, child in schema.fields.items():
            if child.required and key not in value:
                out.append(Problem(config_path(path, key), f"missing; expected {describe(child)}"))


def _range(value: float, minimum: float | None, maximum: float | None, path: str, out: list[Problem]) -> None:
    if minimum is not None and value < minimum:
        out.append(Problem(path, f"must be at least {minimum}, found {value}"))
    if maximum is not None and value > maximum:
        out.append(Problem(path, f"must be at most {maximum}, found {value}"))


def describe(schema: Field) -> str:
    """What a field wants, as error messages say it."""
    names: dict[type[Field], str] = {
        Str: "a string",
        Int: "an integer",
        Number: "a number",
        Bool: "true or false",
        Array: "an array",
        Object: "an object",
        Anything: "a value",
    }
    return names[type(schema)]


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def coerce(text: str, schema: Field) -> object:
    """An environment variable's text as the type `schema` wants; ValueError says why not.

    Strings stay as written; integers, numbers and booleans are parsed (`true/false/1/0/yes/no/
    on/off`); `null` is null for nullable fields; arrays of scalars are comma-separated.
    """
    if schema.nullable and text == "null":
        return None
    if isinstance(schema, Str | Anything):
        return text
    if isinstance(schema, Int):
        try:
            return int(text.strip(), 0)
        except ValueError:
            raise ValueError(f"expected an integer, found {text!r}") from None
    if isinstance(schema, Number):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, found {text!r}") from None
    if isinstance(schema, Bool):
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected true or false, found {text!r}")
    if isinstance(schema, Array) and not isinstance(schema.items, Array | Object):
        return [coerce(part.strip(), schema.items) for part in text.split(",")] if text.strip() else []
    raise ValueError(f"cannot set {describe(schema)} from an environment variable")
