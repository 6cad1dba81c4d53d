"""server_sql's and server_log's config: file, then RSDEV__ variables, then flags; every problem at once."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

import servers.server_log.__main__ as server_log
import servers.server_sql.__main__ as server_sql
from lib_common.errors import ConfigErrors
from tests.bad_config import config_problems

SERVERS = [server_sql, server_log]


def resolve(module: ModuleType, argv: list[str], env: dict[str, str]) -> object:
    return module.COMMAND.resolve(module.COMMAND.build_parser().parse_args(argv), env)


@pytest.mark.parametrize("module", SERVERS, ids=lambda m: m.NAME)
def test_listen_port_from_the_environment(module: ModuleType) -> None:
    env = {"RSDEV__LISTEN__PORT": "9100", "RSDEV__REDIS_URL": "redis://r:1/0", "RSDEV__BATCH_SIZE": "10"}
    config = resolve(module, [], env)
    assert (config.host, config.port) == ("127.0.0.1", 9100)  # type: ignore[attr-defined]
    assert (config.consumer.redis_url, config.consumer.batch_size) == ("redis://r:1/0", 10)  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", SERVERS, ids=lambda m: m.NAME)
def test_flags_beat_environment_beats_file(module: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{listen: {port: 1000}, prefix: 'file:', group: 'g-file'}")
    argv = ["--config", str(path)]
    env = {"RSDEV__LISTEN__PORT": "2000", "RSDEV__PREFIX": "env:"}
    file_only = resolve(module, argv, {})
    assert (file_only.port, file_only.consumer.prefix, file_only.consumer.group) == (1000, "file:", "g-file")  # type: ignore[attr-defined]
    with_env = resolve(module, argv, env)
    assert (with_env.port, with_env.consumer.prefix, with_env.consumer.group) == (2000, "env:", "g-file")  # type: ignore[attr-defined]
    with_flags = resolve(module, [*argv, "--port", "3000", "--prefix", "flag:"], env)
    assert (with_flags.port, with_flags.consumer.prefix) == (3000, "flag:")  # type: ignore[attr-defined]


def test_the_sink_flags_are_config_paths_too(tmp_path: Path) -> None:
    sql = resolve(server_sql, ["--dsn", "postgresql://flag/x", "--writers", "3"], {"RSDEV__TABLE": "env_quotes"})
    assert (sql.dsn, sql.writers, sql.table) == ("postgresql://flag/x", 3, "env_quotes")  # type: ignore[attr-defined]
    log = resolve(server_log, ["--dir", str(tmp_path), "--close-grace-s", "5"], {"RSDEV__DIR": "/elsewhere"})
    assert (log.dir, log.close_grace_s) == (tmp_path, 5.0)  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", SERVERS, ids=lambda m: m.NAME)
def test_several_problems_are_reported_at_once(module: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{\n  listen: {port: 70000},\n  batch_size: 0,\n  colour: 1,\n}")
    with pytest.raises(ConfigErrors) as info:
        resolve(module, ["--config", str(path), "--max-wait-ms", "0"], {"RSDEV__LOG_LEVEL": "loud"})
    lines = str(info.value).splitlines()
    assert len(lines) == 5, lines
    assert lines[0].startswith(
        f"{path}:4:11: colour: unknown key; expected one of listen, log_level, log_dir, alerts, redis_url"
    )
    assert lines[1:] == [
        f"{path}:2:18: listen.port: must be at most 65535, found 70000",
        "RSDEV__LOG_LEVEL: expected one of critical, error, warning, info, debug, found 'loud'",
        f"{path}:3:15: batch_size: must be at least 1, found 0",
        "--max-wait-ms: must be at least 1, found 0",
    ]


def test_server_sql_process_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    env = {"RSDEV__LISTEN__PORT": "http", "RSDEV__REDIS_URL": "http://nope"}
    config = "{\n  table: 'Quotes!',\n  writers: 99,\n}"
    path, problems = config_problems(tmp_path, "servers.server_sql", config, "--batch-size", "0", env=env)
    assert len(problems) == 5, problems
    assert problems[0] == "RSDEV__LISTEN__PORT: expected an integer, found the string 'http'"
    assert problems[1].startswith("RSDEV__REDIS_URL: ")
    assert problems[2:] == [
        "--batch-size: must be at least 1, found 0",
        f"{path}:2:10: table: expected a lower-case SQL name ([a-z_][a-z0-9_]*), found 'Quotes!'",
        f"{path}:3:12: writers: must be at most 16, found 99",
    ]


@pytest.mark.parametrize("module", [server_sql, server_log], ids=lambda m: m.NAME)
def test_a_cluster_url_reads_every_stream_shard(module: ModuleType) -> None:
    env = {"RSDEV__REDIS_URL": "redis+cluster://a:7000,b:7001?stream_shards=3", "RSDEV__PREFIX": "p:"}
    config = resolve(module, [], env)
    assert config.consumer.streams == ["{p:quotes:0}", "{p:quotes:1}", "{p:quotes:2}"]  # type: ignore[attr-defined]
    assert resolve(module, [], {"RSDEV__PREFIX": "p:"}).consumer.streams == ["p:quotes"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", SERVERS, ids=lambda m: m.NAME)
def test_a_bad_cluster_url_is_a_config_problem(module: ModuleType) -> None:
    with pytest.raises(ConfigErrors) as info:
        resolve(module, [], {"RSDEV__REDIS_URL": "redis+cluster://a:7000,b"})
    assert str(info.value) == "RSDEV__REDIS_URL: bad Redis Cluster URL: expected HOST:PORT, found 'b'"


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        ("postgresql://quotes:hunter2@db:port/quotes", "--dsn: port: expected a number 1-65535, found 'port'"),
        ("host=db password=hunter 2", '--dsn: not a libpq connection string or URL: missing "=" after "***"'),
        ("postgresql://quotes:hunter2@[::1:5432/q", "--dsn: not a libpq connection string or URL: end of string"),
        ("host=db sslmode=always password=hunter2", "--dsn: sslmode: expected one of disable, allow"),
    ],
)
def test_a_malformed_dsn_exits_2_without_the_password(tmp_path: Path, dsn: str, problem: str) -> None:
    _, problems = config_problems(tmp_path, "servers.server_sql", "{}", "--redis-url", "redis://r:1/0", "--dsn", dsn)
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    assert "hunter" not in problems[0]


def test_a_malformed_dsn_in_the_file_names_its_place(tmp_path: Path) -> None:
    config = "{\n  redis_url: 'redis://r:1/0',\n  dsn: 'host=db port=99999',\n}"
    path, problems = config_problems(tmp_path, "servers.server_sql", config)
    assert problems == [f"{path}:3:8: dsn: port: expected a number 1-65535, found '99999'"]
