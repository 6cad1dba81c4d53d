"""read_config: file, then environment, then flags; tokens decrypted; every problem at once."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest

import json5format
from lib_common import secrets
from lib_common.config import Flag, Section, parse_config, read_config
from lib_common.errors import ConfigError, ConfigErrors
from lib_common.flags import config_flags, load_or_exit, read_log_level

KEY_TEXT = base64.b64encode(bytes(range(32))).decode()
KEY = secrets.key_from_base64(KEY_TEXT, "test")


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    rate: float
    tls: bool
    symbols: list[str] | None
    prefix: str
    publish: bool
    log_level: str


def build(root: Section) -> Server:
    root.only(["listen", "rate", "tls", "symbols", "prefix", "publish", "log_level"])
    listen = root.section("listen")
    listen.only(["host", "port"])
    publish = root.section("publish")
    publish.only(["redis_url"])
    return Server(
        host=listen.optional_str("host") or "127.0.0.1",
        port=listen.integer("port", 8765, minimum=0, maximum=65535),
        rate=root.number("rate", 1.0, minimum=0.001),
        tls=root.flag("tls", False),
        symbols=root.optional_str_list("symbols"),
        prefix=root.optional_str("prefix") or "rsdev:",
        publish="publish" in root,
        log_level=read_log_level(root),
    )


def lines(info: pytest.ExceptionInfo[ConfigErrors]) -> list[str]:
    return str(info.value).splitlines()


def test_no_file_is_an_empty_object() -> None:
    assert read_config(None, build, env={}) == Server("127.0.0.1", 8765, 1.0, False, None, "rsdev:", False, "info")


def test_flags_beat_environment_beats_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{listen: {host: 'file', port: 1000}, rate: 3}")
    env = {"RSDEV__LISTEN__PORT": "2000", "RSDEV__LISTEN__HOST": "env"}
    assert read_config(path, build, env={}).port == 1000
    assert read_config(path, build, env=env).port == 2000
    config = read_config(path, build, env=env, flags={"listen.port": Flag("--port", 3000), "rate": None})
    assert (config.host, config.port, config.rate) == ("env", 3000, 3.0)  # None: the flag was not given


def test_environment_values_are_typed_by_the_accessor_that_reads_them() -> None:
    env = {
        "RSDEV__LISTEN__PORT": "9000",
        "rsdev__listen__host": "not ours: the prefix is upper case",
        "RSDEV__TLS": "yes",
        "RSDEV__RATE": "2.5",
        "RSDEV__SYMBOLS": "AAPL, MSFT",
        "RSDEV__PREFIX": "123",
        "RSDEV__Log_Level": '"debug"',
    }
    config = parse_config("{listen: {}}", build, env=env)
    assert config == Server("127.0.0.1", 9000, 2.5, True, ["AAPL", "MSFT"], "123", False, "debug")
    assert parse_config("{}", build, env={"RSDEV__SYMBOLS": '["A", "B"]'}).symbols == ["A", "B"]


def test_environment_segments_match_keys_case_insensitively_and_index_arrays() -> None:
    def tenants(root: Section) -> list[tuple[str, int]]:
        return [(t.required_str("name"), t.integer("priority", 0)) for t in root.sections("Tenants")]

    env = {"RSDEV__TENANTS__1__PRIORITY": "7"}
    assert parse_config("{Tenants: [{name: 'a'}, {name: 'b'}]}", tenants, env=env) == [("a", 0), ("b", 7)]


def test_every_problem_at_once_each_where_it_came_from() -> None:
    text = "{\n  listen: {port: 70000, hots: 'x'},\n  rate: 'fast',\n  colour: 1,\n}"
    env = {"RSDEV__TLS": "maybe", "RSDEV__LOG_LEVEL": "loud", "RSDEV__SYMBOLS__0": "x"}
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, build, source="c.json5", env=env, flags={"prefix": Flag("--prefix", 5)})
    assert lines(info) == [  # in the order build reads them; a file value's place is its value's
        "c.json5:4:11: colour: unknown key; expected one of listen, rate, tls, symbols, prefix, publish, log_level",
        "c.json5:2:31: listen.hots: unknown key; expected one of host, port",
        "c.json5:2:18: listen.port: must be at most 65535, found 70000",
        "c.json5:3:9: rate: expected a number, found the string 'fast'",
        "RSDEV__TLS: expected true or false, found the string 'maybe'",
        "RSDEV__SYMBOLS__0: symbols: expected an array of strings, found an object",  # it made the object
        "--prefix: expected a string, found the number 5",
        "RSDEV__LOG_LEVEL: expected one of critical, error, warning, info, debug, found 'loud'",
    ]
    assert isinstance(info.value, ConfigError) and len(info.value.problems) == 8


def test_a_config_error_raised_by_build_joins_the_list() -> None:
    def checked(root: Section) -> Server:
        server = build(root)
        if server.tls and server.port == 80:
            raise root.error("tls", "TLS on port 80 cannot be what you mean")
        return server

    with pytest.raises(ConfigErrors) as info:
        parse_config("{tls: true, listen: {port: 80}, rate: 0}", checked, source="c", env={})
    assert lines(info) == [
        "c:1:39: rate: must be at least 0.001, found 0.0",
        "c:1:7: tls: TLS on port 80 cannot be what you mean",
    ]


def test_a_flag_path_with_a_question_mark_sets_only_an_object_that_exists() -> None:
    flags = {"publish?.redis_url": Flag("--redis-url", "redis://h:1/0")}
    assert parse_config("{}", build, env={}, flags=flags).publish is False
    assert parse_config("{publish: {}}", build, env={}, flags=flags).publish is True
    # A plain flag path creates what it needs; the `?` ones are applied after it.
    both = {"publish.redis_url": Flag("--publish", "redis://h:1/0"), **flags}
    assert parse_config("{}", build, env={}, flags=both).publish is True


def test_bad_overrides_are_problems_too() -> None:
    env = {"RSDEV__LISTEN__PORT__X": "1", "RSDEV__": "1", "RSDEV__RATE__0": "1", "RSDEV__TENANTS__0": "1"}
    with pytest.raises(ConfigErrors) as info:
        parse_config("{rate: 1, tenants: []}", build, source="c", env=env, flags={"rate.x": Flag("--x", 1)})
    assert lines(info) == [
        "RSDEV__: expected RSDEV__SECTION__KEY, found an empty segment",
        "RSDEV__RATE__0: rate is the number 1, not an object or array",
        "RSDEV__TENANTS__0: no item 0 in the array at tenants",
        "--x: rate is the number 1, not an object",
        "c:1:20: tenants: unknown key; expected one of listen, rate, tls, symbols, prefix, publish, log_level",
        "RSDEV__LISTEN__PORT__X: listen.port: expected an integer, found an object",
    ]


def test_tokens_decrypt_bound_to_their_path(tmp_path: Path) -> None:
    def db(root: Section) -> str | None:
        return root.section("db").optional_str("password")

    token = secrets.encrypt("hunter2", KEY, "db.password")
    path = tmp_path / "c.json5"
    path.write_text(f'{{db: {{password: "{token}"}}}}')
    assert read_config(path, db, env={"RSDEV_MASTER_KEY": KEY_TEXT}) == "hunter2"
    # Copied to another key it fails closed, and the message says where.
    with pytest.raises(ConfigError, match=r"^c.json5:1:12: db.dsn: token does not decrypt"):
        parse_config(f'{{db: {{dsn: "{token}"}}}}', db, source="c.json5", key=KEY, env={})
    # An override may carry a token too, bound to the overridden path.
    assert parse_config("{}", db, env={"RSDEV__DB__PASSWORD": token, "RSDEV_MASTER_KEY": KEY_TEXT}) == "hunter2"
    with pytest.raises(ConfigError, match=r"^RSDEV__DB__DSN: no master key"):
        parse_config("{db: {}}", db, env={"RSDEV__DB__DSN": token})


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{}")
    assert read_config(path, lambda root: root.base_dir, env={}) == tmp_path
    assert read_config(None, lambda root: root.base_dir, env={}) == Path(".")


def test_a_file_that_cannot_be_read_or_parsed_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.json5: cannot read"):
        read_config(tmp_path / "absent.json5", build, env={})
    with pytest.raises(ConfigError, match=r"^c:1:5: "):
        parse_config("{a: }", build, source="c", env={})


def test_a_key_given_twice_is_refused_where_it_stands_again() -> None:
    # issue 13 #8: a second `tenants: []` further down turned authentication off, last one winning
    text = "{\n  tenants: [{name: 'desk', token: 'x'}],\n  rate: 2,\n  tenants: [],\n}"
    with pytest.raises(ConfigError) as info:
        parse_config(text, lambda root: None, source="c.json5", env={})
    assert str(info.value) == "c.json5:4:3: duplicate key 'tenants': it is already set in this object"


def test_a_config_file_past_the_size_bound_is_refused_unread(tmp_path: Path) -> None:
    # issue 13 #14: a 100 MB file took 46 s and 3.4 GB; the bound is checked before parsing
    path = tmp_path / "big.json5"
    with path.open("wb") as out:
        out.write(b"{a: '")
        out.truncate(json5format.MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(ConfigError, match=r"big\.json5: larger than 4,194,304 bytes: not read"):
        read_config(path, build, env={})


def test_config_flags_maps_parsed_arguments_to_paths() -> None:
    import argparse

    args = argparse.Namespace(port=9000, log_level=None, redis_url="redis://h:1/0")
    flags = config_flags(args, {"--port": "listen.port", "--log-level": "log_level", "--redis-url": ("a", "b?.c")})
    assert flags == {
        "listen.port": Flag("--port", 9000),
        "log_level": Flag("--log-level", None),
        "a": Flag("--redis-url", "redis://h:1/0"),
        "b?.c": Flag("--redis-url", "redis://h:1/0"),
    }


def test_load_or_exit_prints_every_problem_on_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        load_or_exit("prog", lambda: parse_config("{rate: 'x', colour: 1}", build, source="c", env={}))
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "prog: config error: c:1:21: colour: unknown key; expected one of listen, rate, tls, symbols, prefix, "
        "publish, log_level",
        "prog: config error: c:1:8: rate: expected a number, found the string 'x'",
    ]


def test_a_nul_in_a_config_string_is_a_problem_where_it_stands() -> None:
    # Found by the config fuzz target: a TLS path with a NUL raised ValueError out of the reader.
    text = '{\n  prefix: "rs\\u0000dev:",\n  symbols: ["A", "B\\u0000"],\n}'
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, build, source="c.json5", env={})
    assert lines(info) == [  # in the order build reads them
        "c.json5:3:18: symbols[1]: a NUL character (\\u0000) is not allowed in a configuration string",
        "c.json5:2:11: prefix: a NUL character (\\u0000) is not allowed in a configuration string",
    ]
