"""lib_common.flags.Option: one declaration makes both the parser's flag and the config flag."""

from __future__ import annotations

import argparse

import pytest

from lib_common.config import Flag, Section, parse_config
from lib_common.flags import Option, add_options, option_flags, positive_float

OPTIONS = (
    Option("--rate", "feed.rate", "quotes a second", type=positive_float),
    Option("--file", "feed.files", "a file, again for more", kind="append", metavar="FILE"),
    Option("--publish", "publish.enabled", "publish", kind="on"),
    Option("--redis-url", ("feed.redis_url", "publish?.redis_url"), "the Redis"),
)


def parsed(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="t")
    add_options(parser, OPTIONS)
    return parser.parse_args(argv)


def test_a_flag_not_given_is_none_and_leaves_the_config_alone() -> None:
    flags = option_flags(parsed([]), OPTIONS)
    assert all(flag.value is None for flag in flags.values())
    assert list(flags) == ["feed.rate", "feed.files", "publish.enabled", "feed.redis_url", "publish?.redis_url"]


def test_each_kind_reads_its_value_and_names_its_flag() -> None:
    flags = option_flags(
        parsed(["--rate", "2.5", "--file", "a", "--file", "b", "--publish", "--redis-url", "r"]), OPTIONS
    )
    assert flags["feed.rate"] == Flag("--rate", 2.5)
    assert flags["feed.files"] == Flag("--file", ["a", "b"])
    assert flags["publish.enabled"] == Flag("--publish", True)
    assert flags["feed.redis_url"] == flags["publish?.redis_url"] == Flag("--redis-url", "r")


def test_the_flags_type_refuses_with_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parsed(["--rate", "-1"])
    assert caught.value.code == 2 and "--rate: must be positive, found -1" in capsys.readouterr().err


def test_an_optional_path_is_set_only_where_an_earlier_flag_made_its_object() -> None:
    def build(root: Section) -> tuple[object, object]:
        publish = root.section("publish")
        return publish.flag("enabled", False), publish.optional_str("redis_url")

    alone = option_flags(parsed(["--redis-url", "redis://x"]), OPTIONS)
    both = option_flags(parsed(["--publish", "--redis-url", "redis://x"]), OPTIONS)
    assert parse_config("{}", build, flags=alone, env={}) == (False, None)  # --redis-url alone: no publishing
    assert parse_config("{}", build, flags=both, env={}) == (True, "redis://x")
