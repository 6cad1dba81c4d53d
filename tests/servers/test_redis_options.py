"""`--redis-url`, declared once for every server that has it."""

from __future__ import annotations

import argparse

import pytest

from lib_common.flags import add_options, option_flags
from servers.redis_options import redis_url_option


def test_the_help_says_the_default_or_that_a_url_is_required() -> None:
    assert redis_url_option("redis_url", "the Redis to bridge").help == (
        "the Redis to bridge (default redis://127.0.0.1:6379/0)"
    )
    required = redis_url_option("redis_url", "the stream's Redis", required=True)
    assert required.help == "the stream's Redis (required here or in the config)"


def test_the_flag_sets_every_path_and_refuses_what_is_no_redis_url(capsys: pytest.CaptureFixture[str]) -> None:
    option = redis_url_option(("feed.redis_url", "publish?.redis_url"), "the Redis")
    parser = argparse.ArgumentParser(prog="x")
    add_options(parser, [option])
    flags = option_flags(parser.parse_args(["--redis-url", "redis://r:1/0"]), [option])
    assert set(flags) == {"feed.redis_url", "publish?.redis_url"}
    with pytest.raises(SystemExit):
        parser.parse_args(["--redis-url", "http://r:1/0"])
    assert "--redis-url" in capsys.readouterr().err
