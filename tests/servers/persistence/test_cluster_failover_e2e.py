"""No quote lost across a Redis Cluster master's SIGKILL: restream publishing to a private
3-master cluster (the stream over 3 shards, each batch WAITed for a replica), server_sql and
server_log consuming every shard. The master of a stream shard is killed mid-stream, its
replica takes over, the killed node comes back as a replica; every quote restream's client got
is in PostgreSQL exactly once and in server_log's day file exactly once (each symbol's lines in
the order the client got them), and no process was restarted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.redis_cluster import RedisCluster
from tests.servers.conftest import Launcher, StartRestream, until
from tests.servers.persistence.services import SHARED_DSN, wait_for
from tests.servers.persistence.test_publish_outage_e2e import (
    SYMBOLS,
    Key,
    collecting,
    doubled,
    lines,
    publish_status,
    rows,
)

pytestmark = pytest.mark.asyncio

RATE = 20  # quotes/s per symbol: 200/s in all


async def test_a_masters_sigkill_loses_and_doubles_nothing(
    start_restream: StartRestream,
    start_server_sql: Launcher,
    start_server_log: Launcher,
    names: tuple[str, str],
    own_redis_cluster: RedisCluster,
    tmp_path: Path,
) -> None:
    cluster = own_redis_cluster
    prefix, table = names
    url = cluster.url + "?stream_shards=3&wait_replicas=1&wait_timeout_ms=500"
    feed = {"kind": "synthetic", "symbols": SYMBOLS, "rate": RATE}
    restream = start_restream({"feed": feed, "publish": {"redis_url": url, "prefix": prefix}})
    consumer = ("--redis-url", url, "--prefix", prefix, "--max-wait-ms", "100")
    sql = start_server_sql(None, *consumer, "--dsn", SHARED_DSN, "--table", table)
    logs = tmp_path / "logs"
    server_log = start_server_log(None, *consumer, "--dir", str(logs))

    async with collecting(restream, SYMBOLS) as sent:
        await asyncio.sleep(1.5)
        victim = cluster.master_of(f"{{{prefix}quotes:0}}")
        assert victim is not None
        await asyncio.to_thread(cluster.kill, victim)
        await asyncio.to_thread(cluster.wait_promoted, f"{{{prefix}quotes:0}}")
        await asyncio.sleep(1.0)  # the new master has no replica yet: its batches wait
        await asyncio.to_thread(cluster.start_node, victim)  # back, as the new master's replica
        await asyncio.to_thread(cluster.wait_healthy)
        await until(
            lambda: (
                publish_status(restream)["connected"] and publish_status(restream)["buffered"] < RATE * len(SYMBOLS)
            ),
            30,
        )
        await asyncio.sleep(1.0)

    expected = set(sent)
    assert len(sent) > RATE * len(SYMBOLS) * 3, "the client saw too few quotes"
    wait_for(lambda: expected <= set(rows(table)), 60, "every quote the client got in PostgreSQL")
    wait_for(lambda: expected <= set(lines(logs)), 60, "every quote the client got in server_log's file")
    stored, logged = rows(table), lines(logs)
    assert not doubled(stored), f"rows written twice: {doubled(stored)[:5]}"
    assert not doubled(logged), f"lines written twice: {doubled(logged)[:5]}"
    assert by_symbol([k for k in logged if k in expected]) == by_symbol(sent)  # each symbol in order
    figures = publish_status(restream)
    assert figures["dropped"] == 0 and figures["reconnects"] >= 1
    status = sql.status()
    assert status["streams"] == [f"{{{prefix}quotes:{i}}}" for i in range(3)]
    assert status["reconnects"] >= 1 and status["malformed"] == 0
    log_status = server_log.status()
    assert log_status["streams"] == status["streams"] and log_status["malformed"] == 0


def by_symbol(keys: list[Key]) -> dict[str, list[Key]]:
    out: dict[str, list[Key]] = {}
    for k in keys:
        out.setdefault(k[0], []).append(k)
    return out
