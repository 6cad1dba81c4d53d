"""server_speak's config: file, then RSDEV__ variables, then flags; every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.errors import ConfigErrors
from servers.server_speak.__main__ import COMMAND
from servers.server_speak.config import SpeakConfig, parse_config
from servers.server_speak.rules import PriceCross


def resolve(argv: list[str], env: dict[str, str]) -> SpeakConfig:
    return COMMAND.resolve(COMMAND.build_parser().parse_args(argv), env)


def test_listen_port_from_the_environment() -> None:
    config = resolve([], {"RSDEV__LISTEN__PORT": "9200", "RSDEV__SOURCES__REDIS_URL": "redis://r:1/0"})
    assert (config.host, config.port, config.redis_url) == ("127.0.0.1", 9200, "redis://r:1/0")


def test_flags_beat_environment_beats_file(tmp_path: Path) -> None:
    path = tmp_path / "speak.json5"
    path.write_text("{listen: {port: 1000}, output_dir: '/file', queue: {capacity: 4}}")
    argv = ["--config", str(path)]
    env = {"RSDEV__LISTEN__PORT": "2000", "RSDEV__OUTPUT_DIR": "/env", "RSDEV__QUEUE__CAPACITY": "5"}
    assert (resolve(argv, {}).port, resolve(argv, {}).output_dir, resolve(argv, {}).capacity) == (
        1000,
        Path("/file"),
        4,
    )
    with_env = resolve(argv, env)
    assert (with_env.port, with_env.output_dir, with_env.capacity) == (2000, Path("/env"), 5)
    with_flags = resolve([*argv, "--port", "3000", "--output-dir", "/flag"], env)
    assert (with_flags.port, with_flags.output_dir, with_flags.capacity) == (3000, Path("/flag"), 5)


def test_several_problems_are_reported_at_once() -> None:
    text = """{
  sources: {restream_url: "http://x"},
  rules: [
    {kind: "price_cross", symbol: "A", level: "high", direction: "sideways"},
    {kind: "moon"},
    {symbol: "B"},
  ],
  queue: {capacity: 0},
}"""
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, "speak.json5", env={"RSDEV__SPEECH_TIMEOUT_S": "0"})
    assert str(info.value).splitlines() == [
        "speak.json5:2:27: sources.restream_url: expected a ws:// or wss:// URL, found 'http://x'",
        "speak.json5:4:66: rules[0].direction: expected up, down or any, found 'sideways'",
        "speak.json5:4:47: rules[0].level: expected a number, found the string 'high'",
        "speak.json5:5:12: rules[1].kind: expected one of price_cross, percent_move, rating_change, monitor, "
        "found 'moon'",
        "speak.json5:6:5: rules[2].kind: missing; expected a string",
        "speak.json5:8:21: queue.capacity: must be at least 1, found 0",
        "RSDEV__SPEECH_TIMEOUT_S: must be at least 0.1, found 0.0",
    ]


def test_a_good_rule_still_reads_beside_a_bad_one() -> None:
    config = parse_config('{rules: [{kind: "price_cross", symbol: "a", level: 2}]}', env={})
    assert config.rules == (PriceCross("A", 2.0, config.rules[0].direction, config.rules[0].priority),)  # type: ignore[union-attr]
