"""No quote lost on the way to storage: restream publishing at a steady rate with a small memory
buffer and a spool, its private Redis stopped for longer than the buffer lasts and started
again, server_sql and server_log consuming. Every quote restream sent its client is in
PostgreSQL once and in server_log's day file once. Real processes; the shared Redis at 6379 is
never touched."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.servers.conftest import Launcher, ServerProcess, StartRestream, until
from tests.servers.persistence.services import SHARED_DSN, PrivateRedis, wait_for
from tests.servers.persistence.test_server_log_e2e import lines_of
from tests.servers.restream.test_protocol_e2e import recv_json, subscribe

pytestmark = pytest.mark.asyncio

SYMBOLS = [f"T{i}" for i in range(10)]
RATE = 30  # quotes/s per symbol: 300/s in all
BUFFER = 300  # frames: one second of quotes
OUTAGE_S = 4.0

Key = tuple[str, int, int]  # a quote's (symbol, ts_upstream, ts_library_in)


def key(body: dict[str, Any]) -> Key:
    return body["symbol"], body["ts_upstream"], body["ts_library_in"]


async def collect(ws: ClientConnection, into: list[Key]) -> None:
    while True:
        body = await recv_json(ws)
        if body.get("type") == "quote":
            into.append(key(body))


def publish_status(restream: ServerProcess) -> dict[str, Any]:
    status: dict[str, Any] = restream.status()["publish"]  # type: ignore[assignment]
    return status


@contextlib.asynccontextmanager
async def collecting(restream: ServerProcess, symbols: list[str]) -> AsyncIterator[list[Key]]:
    """A client of `restream` subscribed to `symbols`; the quotes it gets, as they come."""
    sent: list[Key] = []
    async with connect(restream.url("/ws", ws=True)) as ws:
        await subscribe(ws, *symbols)
        collector = asyncio.create_task(collect(ws, sent))
        try:
            yield sent
        finally:
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collector


def rows(table: str) -> list[Key]:
    with psycopg.connect(SHARED_DSN, connect_timeout=3) as conn:
        got = conn.execute(f"SELECT symbol, ts_upstream, ts_library_in FROM {table}").fetchall()
    return [(s, u, i) for s, u, i in got]


def lines(directory: Path) -> list[Key]:
    return [key(line) for path in sorted(directory.glob("quotes-*.ndjson*")) for line in lines_of(path)]


def doubled(keys: list[Key]) -> list[Key]:
    return [k for k, n in Counter(keys).items() if n > 1]


async def test_a_redis_outage_longer_than_the_buffer_loses_and_doubles_nothing(
    start_restream: StartRestream,
    start_server_sql: Launcher,
    start_server_log: Launcher,
    names: tuple[str, str],
    private_redis_factory: type[PrivateRedis],
    tmp_path: Path,
) -> None:
    prefix, table = names
    redis = private_redis_factory(persistent=True)  # what it acknowledged survives its restart
    redis.start()
    feed = {"kind": "synthetic", "symbols": SYMBOLS, "rate": RATE}
    spool = {"spool_dir": str(tmp_path / "spool"), "spool_max_bytes": 8 << 20}
    publish = {"redis_url": redis.url, "prefix": prefix, "buffer": BUFFER, **spool}
    restream = start_restream({"feed": feed, "publish": publish})
    consumer = ["--redis-url", redis.url, "--prefix", prefix, "--max-wait-ms", "100"]
    start_server_sql(None, *consumer, "--dsn", SHARED_DSN, "--table", table)
    logs = tmp_path / "logs"
    server_log = start_server_log(None, *consumer, "--dir", str(logs))

    async with collecting(restream, SYMBOLS) as sent:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(OUTAGE_S)  # four times what the memory buffer holds
        away = publish_status(restream)
        assert not away["connected"] and away["buffered"] == BUFFER and away["spool"]["appended"] > BUFFER
        await asyncio.to_thread(redis.start)
        await until(lambda: publish_status(restream)["connected"], 20)
        await until(
            lambda: publish_status(restream)["spool"]["bytes"] == 0 and publish_status(restream)["buffered"] < BUFFER,
            30,
        )
        await asyncio.sleep(1.0)

    expected = set(sent)
    assert len(sent) > RATE * len(SYMBOLS) * (OUTAGE_S + 2) * 0.8, "the client saw too few quotes"
    wait_for(lambda: expected <= set(rows(table)), 60, "every quote the client got in PostgreSQL")
    wait_for(lambda: expected <= set(lines(logs)), 60, "every quote the client got in server_log's file")
    stored, logged = rows(table), lines(logs)
    assert not doubled(stored), f"rows written twice: {doubled(stored)[:5]}"
    assert not doubled(logged), f"lines written twice: {doubled(logged)[:5]}"
    figures = publish_status(restream)
    assert figures["dropped"] == 0 and figures["spool"]["drained"] > 0 and figures["spool"]["torn"] == 0
    metrics = restream.get("/metrics").text
    assert "restream_publish_spooled_frames_total" in metrics and "restream_publish_spool_full 0" in metrics
    assert server_log.status()["malformed"] == 0
