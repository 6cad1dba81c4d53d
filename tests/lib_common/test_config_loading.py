"""load_config: environment overrides, token decryption and schema validation, every problem at once."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from lib_common import secrets
from lib_common.config import load_config, parse_config, parse_json5
from lib_common.errors import ConfigError, ConfigErrors
from lib_common.schema import Array, Bool, Int, Number, Object, Str, coerce, validate

KEY_TEXT = base64.b64encode(bytes(range(32))).decode()
KEY = secrets.key_from_base64(KEY_TEXT, "test")
SCHEMA = Object(
    {
        "port": Int(minimum=1, maximum=65535),
        "feed": Str(enum=("synthetic", "yahoo")),
        "tls": Bool(),
        "rate": Number(minimum=0),
        "symbols": Array(Str()),
        "db": Object({"dsn": Str(required=True), "password": Str()}),
        "tenants": Array(Object({"name": Str(required=True), "priority": Int(minimum=0)})),
    }
)


def test_every_problem_is_reported_with_its_path() -> None:
    text = '{port: 70000, feed: "bing", colour: 1, db: {}, tenants: [{name: "a"}, {priority: "high"}]}'
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, "c.json5", SCHEMA, env={})
    assert str(info.value).splitlines() == [
        "c.json5:1:8: port: must be at most 65535, found 70000",
        "c.json5:1:21: feed: expected one of synthetic, yahoo, found 'bing'",
        "c.json5:1:37: colour: unknown key; expected one of port, feed, tls, rate, symbols, db, tenants",
        "c.json5:1:44: db.dsn: missing; expected a string",  # where its object is
        "c.json5:1:82: tenants[1].priority: expected an integer, found the string 'high'",
        "c.json5:1:71: tenants[1].name: missing; expected a string",
    ]
    assert isinstance(info.value, ConfigError)


def test_environment_overrides_are_typed_by_the_schema() -> None:
    env = {
        "RSDEV__PORT": "9000",
        "RSDEV__TLS": "yes",
        "RSDEV__RATE": "2.5",
        "RSDEV__SYMBOLS": "AAPL, MSFT",
        "RSDEV__DB__DSN": "postgres://x",
        "RSDEV__TENANTS__0__PRIORITY": "3",
    }
    root = parse_config('{port: 1, tenants: [{name: "a"}]}', "c", SCHEMA, env=env)
    assert root.integer("port", 0) == 9000 and root.flag("tls", False) is True
    assert root.number("rate", 0) == 2.5 and root.optional_str_list("symbols") == ["AAPL", "MSFT"]
    assert root.section("db").required_str("dsn") == "postgres://x"
    assert root.sections("tenants")[0].integer("priority", 0) == 3


def test_bad_overrides_are_problems_too() -> None:
    env = {"RSDEV__PORT": "many", "RSDEV__NOPE": "1", "RSDEV__TENANTS__5__NAME": "x"}
    with pytest.raises(ConfigErrors) as info:
        parse_config("{}", "c", SCHEMA, env=env)
    assert [p.where for p in info.value.problems] == ["RSDEV__NOPE", "RSDEV__PORT", "RSDEV__TENANTS__5__NAME"]
    assert "expected an integer, found 'many'" in str(info.value)


def test_tokens_decrypt_in_place_bound_to_their_path(tmp_path: Path) -> None:
    token = secrets.encrypt("hunter2", KEY, "db.password")
    path = tmp_path / "c.json5"
    path.write_text(f'{{db: {{dsn: "x", password: "{token}"}}}}')
    root = load_config(path, SCHEMA, env={"RSDEV_MASTER_KEY": KEY_TEXT})
    assert root.section("db").optional_str("password") == "hunter2"
    # Copied to another key it fails closed, and the message says where.
    with pytest.raises(ConfigError, match=r"c.json5: db.dsn: token does not decrypt"):
        parse_config(f'{{db: {{dsn: "{token}"}}}}', "c.json5", SCHEMA, key=KEY, env={})
    # An override may carry a token too, bound to the overridden path.
    env = {"RSDEV__DB__PASSWORD": token, "RSDEV_MASTER_KEY": KEY_TEXT}
    assert parse_config('{db: {dsn: "x"}}', "c", SCHEMA, env=env).section("db").optional_str("password") == "hunter2"


def test_missing_key_is_a_problem_only_when_a_token_is_present() -> None:
    assert parse_json5("{a: 'rs'}", "c").optional_str("a") == "rs"
    token = secrets.encrypt("v", KEY, "a")
    with pytest.raises(ConfigError, match="c: a: no master key"):
        parse_config(f'{{a: "{token}"}}', "c", env={})


def test_schema_pieces() -> None:
    assert validate([1, True, None], Array(Int(), max_items=2)) == validate([1, True, None], Array(Int(), max_items=2))
    assert [p.path for p in validate([1, True, None], Array(Int(), max_items=2))] == ["", "[1]", "[2]"]
    assert validate({"x": None}, Object({"x": Str(nullable=True)})) == []
    assert validate({"any": 1}, Object({}, extra=Int())) == []
    assert coerce("0x10", Int()) == 16 and coerce("off", Bool()) is False
    with pytest.raises(ValueError, match="cannot set an object"):
        coerce("{}", Object({}))
