"""monitor_postgres against the real PostgreSQL, directly and through a real PgBouncer in
transaction pooling mode (where server-side prepared statements would break)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest

from lib_common.config import parse_config
from lib_common.errors import ConfigError
from rsdev_misc.monitor_postgres import PostgresConfig, from_section
from tests.misc.conftest import POSTGRES_DSN, StartMonitor, run_monitor
from tests.processes import free_port

MODULE = "rsdev_misc.monitor_postgres"


def heartbeat(table: str, name: str) -> tuple[object, ...] | None:
    with psycopg.connect(POSTGRES_DSN) as conn:
        return conn.execute(f"SELECT name, beat_at, latency_ms FROM {table} WHERE name = %s", (name,)).fetchone()


def config_file(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "monitor_postgres.json5"
    path.write_text(json.dumps(values))
    return path


def test_once_directly_is_healthy_and_beats(tmp_path: Path) -> None:
    config = config_file(tmp_path, dsn=POSTGRES_DSN, heartbeat_table="rsdev_test_heartbeat", name="direct")
    done = run_monitor(MODULE, "--once", "--config", str(config))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "ok" and result["latency_ms"] > 0 and result["server_version"] >= 100000
    row = heartbeat("rsdev_test_heartbeat", "direct")
    assert row is not None and isinstance(row[2], float)


def test_once_through_pgbouncer_transaction_pooling(tmp_path: Path, pgbouncer: str) -> None:
    config = config_file(tmp_path, dsn=pgbouncer, heartbeat_table="rsdev_test_heartbeat", name="bouncer")
    for _ in range(3):  # repeated checks land on pooled backends in turn
        done = run_monitor(MODULE, "--once", "--config", str(config))
        assert done.returncode == 0, done.stdout + done.stderr
    assert heartbeat("rsdev_test_heartbeat", "bouncer") is not None


def test_loop_through_pgbouncer_serves_health(start_monitor: StartMonitor, pgbouncer: str) -> None:
    monitor = start_monitor(MODULE, "--dsn", pgbouncer, "--interval", "0.2")
    body = monitor.wait_status(200).json()
    assert body["status"] == "ok" and body["heartbeat_table"] == "rsdev_heartbeat"
    assert monitor.wait_event("healthy")["fields"]["query_ms"] is not None  # type: ignore[index]
    first = heartbeat("rsdev_heartbeat", "monitor_postgres")
    assert first is not None
    deadline = time.monotonic() + 20
    while (row := heartbeat("rsdev_heartbeat", "monitor_postgres")) == first and time.monotonic() < deadline:
        time.sleep(0.1)  # later checks reuse the connection, each statement on some pooled backend
    assert row is not None and row[1] > first[1]  # type: ignore[operator]
    assert monitor.health().status_code == 200
    assert monitor.stop() == 0


def test_once_unreachable_is_unhealthy() -> None:
    done = run_monitor(MODULE, "--once", "--dsn", f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    assert done.returncode == 1
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "unhealthy" and "OperationalError" in result["error"]


def test_bad_config_exits_2(tmp_path: Path) -> None:
    config = config_file(tmp_path, dsn=POSTGRES_DSN, heartbeat_table="drop table x;")
    done = run_monitor(MODULE, "--once", "--config", str(config))
    assert done.returncode == 2
    assert "heartbeat_table: expected a plain SQL identifier" in done.stderr
    assert run_monitor(MODULE, "--once", "--interval", "3").returncode == 2  # usage error


def test_config_reads_tls_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = parse_config(
        f'{{dsn: "postgresql://db/app", sslmode: "verify-full", sslrootcert: "{ca}", health: {{port: 0}}}}',
        from_section,
        env={},
    )
    assert config == PostgresConfig(
        dsn="postgresql://db/app", sslmode="verify-full", sslrootcert=str(ca), schedule=config.schedule
    )
    assert parse_config('{sslrootcert: "system"}', from_section, env={}).sslrootcert == "system"
    assert config.schedule.health.port == 0
    with pytest.raises(ConfigError, match="sslmode: expected one of"):
        parse_config('{sslmode: "always"}', from_section, env={})


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        ("postgresql://monitor:hunter2@db:5432x/app", "port: expected a number 1-65535, found '5432x'"),
        ("host=db password='hunter2", "not a libpq connection string or URL: unterminated quoted string"),
        (
            "postgres://monitor:hunter%zz@db/app",
            'not a libpq connection string or URL: invalid percent-encoded token: "***"',
        ),
        (
            "host=db hostt=db2 password=hunter2",
            'not a libpq connection string or URL: invalid connection option "hostt"',
        ),
        ("postgresql://db/app?sslmode=verify", "sslmode: expected one of disable"),
    ],
)
def test_a_malformed_dsn_exits_2_without_the_password(dsn: str, problem: str) -> None:
    for mode in (["--once"], []):  # a check and the loop both refuse it before connecting
        done = run_monitor(MODULE, *mode, "--dsn", dsn)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith(f"monitor_postgres: config error: --dsn: {problem}"), done.stderr
        assert "hunter" not in done.stderr + done.stdout
