"""server_sql as a real process: every XADDed quote in the table exactly once, through a kill,
a database outage, a Redis restart, and PgBouncer's transaction pooling."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from tests.servers.conftest import Launcher, ServerProcess, run_module
from tests.servers.persistence.services import (
    SHARED_DSN,
    SHARED_REDIS,
    PrivatePgBouncer,
    PrivatePostgres,
    PrivateRedis,
    pending,
    publish,
    quote,
    stream_ids_in,
    wait_for,
)


def start(launcher: Launcher, redis_url: str, dsn: str, prefix: str, table: str, *flags: str) -> ServerProcess:
    return launcher(
        None,
        "--redis-url",
        redis_url,
        "--dsn",
        dsn,
        "--prefix",
        prefix,
        "--table",
        table,
        "--log-level",
        "debug",
        *flags,
    )


def metric(text: str, name: str) -> float:
    """The value of the sample named exactly `name` in a Prometheus text page (AssertionError
    if there is none: a renamed metric fails the test instead of passing it)."""
    for line in text.splitlines():
        sample, _, value = line.partition(" ")
        if sample == name:
            return float(value)
    raise AssertionError(f"no sample {name} in /metrics")


def assert_exactly_once(
    dsn: str, table: str, published: list[str], prefix: str, redis_url: str = SHARED_REDIS, timeout: float = 60
) -> None:
    wait_for(lambda: len(stream_ids_in(dsn, table)) >= len(published), timeout, f"{len(published)} rows in {table}")
    # Nothing pending: every entry read has been written and acked, so no redelivery is to come.
    wait_for(lambda: pending(redis_url, prefix, "server_sql") == 0, 20, "nothing pending")
    rows = stream_ids_in(dsn, table)
    doubled = [sid for sid, n in Counter(rows).items() if n > 1]
    assert not doubled, f"rows written twice: {doubled[:5]}"
    assert sorted(rows) == sorted(published)


def test_sigkill_mid_batch_then_restart(start_server_sql: Launcher, names: tuple[str, str]) -> None:
    prefix, table = names
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(20_000)])
    first = start(start_server_sql, SHARED_REDIS, SHARED_DSN, prefix, table, "--batch-size", "300")
    wait_for(lambda: len(stream_ids_in(SHARED_DSN, table)) > 0, 30, "first rows")
    first.stop(signal.SIGKILL)
    written = len(stream_ids_in(SHARED_DSN, table))
    assert written < len(ids), "killed too late to be mid-stream"
    start(start_server_sql, SHARED_REDIS, SHARED_DSN, prefix, table, "--batch-size", "300")
    assert_exactly_once(SHARED_DSN, table, ids, prefix)


def test_postgres_outage(start_server_sql: Launcher, names: tuple[str, str], private_postgres: PrivatePostgres) -> None:
    prefix, table = names
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(3000)])
    server = start(start_server_sql, SHARED_REDIS, private_postgres.dsn, prefix, table, "--batch-size", "200")
    wait_for(lambda: len(stream_ids_in(private_postgres.dsn, table)) == len(ids), 60, "rows before the outage")
    private_postgres.stop()
    ids += publish(SHARED_REDIS, prefix, [quote(i) for i in range(3000, 6000)])
    wait_for(lambda: server.get("/health").json()["status"] == "degraded", 20, "degraded while postgres is down")
    # a few failed attempts and backoffs, seen in its own figures rather than waited for blindly
    wait_for(lambda: metric(server.get("/metrics").text, "server_sql_reconnects_total") >= 3, 30, "three retries")
    # at most what it had in hand: two batches being written (--writers 2) and one read ahead
    assert pending(SHARED_REDIS, prefix, "server_sql") <= 3 * 200
    private_postgres.start()
    assert_exactly_once(private_postgres.dsn, table, ids, prefix, timeout=90)
    wait_for(lambda: server.get("/health").json()["status"] == "ok", 20, "ok again")
    metrics = server.get("/metrics").text
    assert metric(metrics, "server_sql_reconnects_total") >= 3
    assert metric(metrics, "server_sql_up") == 1 and metric(metrics, "server_sql_db_connected") == 1


@pytest.mark.parametrize("persistent", [True, False], ids=["aof", "no-persistence"])
def test_redis_restart(
    start_server_sql: Launcher, names: tuple[str, str], private_redis_factory: type[PrivateRedis], persistent: bool
) -> None:
    prefix, table = names
    redis_server = private_redis_factory(persistent)
    redis_server.start()
    ids = publish(redis_server.url, prefix, [quote(i) for i in range(5000)])
    server = start(start_server_sql, redis_server.url, SHARED_DSN, prefix, table, "--batch-size", "250")
    wait_for(lambda: len(stream_ids_in(SHARED_DSN, table)) > 0, 30, "first rows")
    redis_server.stop()
    wait_for(lambda: server.get("/health").json()["status"] == "degraded", 20, "degraded while redis is down")
    redis_server.start()
    if not persistent:
        # Without persistence the stream is gone with whatever it held; what the consumer had
        # read before is in the table, and what is published from now on must follow it.
        wait_for(lambda: server.get("/health").json()["status"] == "ok", 30, "reconnected")
        ids = stream_ids_in(SHARED_DSN, table)
    ids += publish(redis_server.url, prefix, [quote(i) for i in range(5000, 8000)])
    assert_exactly_once(SHARED_DSN, table, ids, prefix, redis_server.url, timeout=90)


def test_through_pgbouncer_transaction_pooling(
    start_server_sql: Launcher, names: tuple[str, str], pgbouncer: PrivatePgBouncer
) -> None:
    prefix, table = names
    assert pgbouncer.pool_mode() == "transaction"
    server = start(start_server_sql, SHARED_REDIS, pgbouncer.dsn, prefix, table, "--batch-size", "100")
    ids = publish(SHARED_REDIS, prefix, [quote(i) for i in range(1500)])
    assert_exactly_once(SHARED_DSN, table, ids, prefix)
    ids += publish(SHARED_REDIS, prefix, [quote(i) for i in range(1500, 2000)])
    assert_exactly_once(pgbouncer.dsn, table, ids, prefix)
    assert server.status()["malformed"] == 0


def test_missing_settings(start_server_sql: Launcher) -> None:
    missing = run_module("servers.server_sql", "--dsn", "host=127.0.0.1")  # well-formed: only Redis is missing
    assert missing.returncode == 2 and "--redis-url" in missing.stderr
