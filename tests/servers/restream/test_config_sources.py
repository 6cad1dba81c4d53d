"""The fan-out gateways' config: file, then RSDEV__ variables, then flags; every problem at once."""

from __future__ import annotations

from pathlib import Path

from servers.redis2ws import __main__ as redis2ws_main
from servers.restream.__main__ import COMMAND
from servers.restream.config import RestreamConfig
from servers.server_yahoo import __main__ as server_yahoo_main
from tests.bad_config import config_problems


def resolve(argv: list[str], env: dict[str, str]) -> RestreamConfig:
    return COMMAND.resolve(COMMAND.build_parser().parse_args(argv), env)


def test_listen_port_and_feed_from_the_environment() -> None:
    config = resolve([], {"RSDEV__LISTEN__PORT": "9300", "RSDEV__FEED__RATE": "7", "RSDEV__FEED__KIND": "yahoo"})
    assert (config.port, config.feed.rate, config.feed.kind) == (9300, 7.0, "yahoo")


def test_flags_beat_environment_beats_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{listen: {port: 1000}, feed: {rate: 3}}")
    argv = ["--config", str(path)]
    env = {"RSDEV__LISTEN__PORT": "2000", "RSDEV__FEED__RATE": "4"}
    assert (resolve(argv, {}).port, resolve(argv, {}).feed.rate) == (1000, 3.0)
    assert (resolve(argv, env).port, resolve(argv, env).feed.rate) == (2000, 4.0)
    flagged = resolve([*argv, "--port", "3000", "--rate", "5"], env)
    assert (flagged.port, flagged.feed.rate) == (3000, 5.0)


def test_redis_url_alone_does_not_turn_publishing_on() -> None:
    edge = resolve(["--feed", "redis", "--redis-url", "redis://127.0.0.1:6390/0"], {})
    assert edge.feed.redis_url == "redis://127.0.0.1:6390/0"
    assert not edge.publish.enabled


def test_publish_with_redis_url_publishes_there() -> None:
    ingest = resolve(["--publish", "--redis-url", "redis://127.0.0.1:6391/0"], {})
    assert ingest.publish.enabled and ingest.publish.redis_url == "redis://127.0.0.1:6391/0"


def test_the_other_gateways_honour_the_environment_too() -> None:
    bridge = redis2ws_main.COMMAND.resolve(
        redis2ws_main.COMMAND.build_parser().parse_args([]), {"RSDEV__LISTEN__PORT": "9401"}
    )
    proxy = server_yahoo_main.COMMAND.resolve(
        server_yahoo_main.COMMAND.build_parser().parse_args(["--port", "9403"]), {"RSDEV__LISTEN__PORT": "9402"}
    )
    assert (bridge.port, proxy.port) == (9401, 9403)


def test_the_process_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    path, problems = config_problems(
        tmp_path,
        "servers.restream",
        "{\n  feed: {rate: 'fast'},\n  memory: {budget_bytes: 10},\n}",
        "--symbols",
        "A",
        env={"RSDEV__LISTEN__PORT": "eighty"},
    )
    assert any(f"{path}:3:" in p and "memory.budget_bytes: must be at least 4096, found 10" in p for p in problems)
    assert "RSDEV__LISTEN__PORT: expected an integer, found the string 'eighty'" in problems
    assert any(f"{path}:2:" in p and "feed.rate: expected a number" in p for p in problems)
