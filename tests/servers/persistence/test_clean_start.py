"""Every server started at info level with everything it needs up logs no WARNING (nor worse),
in one format (ISO 8601 time with its offset, level, service), and with --log-dir also writes
its JSON lines. (Here because server_sql and server_log need the unique names of this folder.)"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.processes import free_port
from tests.servers.conftest import ServerProcess
from tests.servers.persistence.services import SHARED_DSN, SHARED_REDIS

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) +(\S+) ")


def server_args(name: str, prefix: str, table: str, tmp_path: Path, dummy_port: int) -> list[str]:
    consumer = ["--redis-url", SHARED_REDIS, "--prefix", prefix]
    return {
        "restream": [],
        "redis2ws": ["--redis-url", SHARED_REDIS],
        "server_dummy": [],
        "server_yahoo": ["--upstream-url", f"ws://127.0.0.1:{dummy_port}/"],
        "server_speak": ["--output-dir", str(tmp_path / "speech")],
        "server_sql": [*consumer, "--dsn", SHARED_DSN, "--table", table],
        "server_log": [*consumer, "--dir", str(tmp_path / "quotes")],
    }[name]


SERVERS = ["restream", "redis2ws", "server_dummy", "server_yahoo", "server_speak", "server_sql", "server_log"]


@pytest.mark.parametrize("name", SERVERS)
def test_a_clean_start_logs_no_warning(name: str, names: tuple[str, str], tmp_path: Path) -> None:
    prefix, table = names
    dummy = ServerProcess([], free_port(), tmp_path / "dummy.log", module="servers.server_dummy")
    logs = tmp_path / "logs"
    try:
        args = [*server_args(name, prefix, table, tmp_path, dummy.port), "--log-level", "info", "--log-dir", str(logs)]
        server = ServerProcess(args, free_port(), tmp_path / f"{name}.log", module=f"servers.{name}")
        time.sleep(1.0)  # what it says once up (a first connect, a first poll) is part of the start
        assert server.stop() == 0
    finally:
        dummy.stop()
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert lines, "nothing logged"
    for line in lines:
        match = LINE.match(line)
        assert match is not None, f"not in the one format: {line!r}"
        assert match.group(1) == "INFO", line
        assert match.group(2) == name, line
    records = [json.loads(line) for path in logs.glob(f"{name}.*.jsonl") for line in path.read_text().splitlines()]
    assert records and {r["service"] for r in records} == {name}
    assert {r["level"] for r in records} == {"INFO"}
