"""server_log on a stream spread over the shards of a real Redis Cluster (tests/redis_cluster.py):
every entry of every shard in the day file once through a SIGKILL and a restart of the real
process mid-stream, each symbol's lines in the order they were published, nothing left pending
on any shard."""

from __future__ import annotations

import json
import signal
from collections import Counter, defaultdict
from pathlib import Path

import redis.cluster

from lib_common.redis_bus.format import stream_keys, stream_shard
from tests.redis_cluster import RedisCluster
from tests.servers.conftest import Launcher
from tests.servers.persistence.services import quote, wait_for
from tests.servers.persistence.test_server_log_e2e import all_ids, lines_of, now_us

SHARDS = 3


def cluster_client(cluster: RedisCluster) -> redis.cluster.RedisCluster:
    return redis.cluster.RedisCluster(host="127.0.0.1", port=cluster.ports[0])


def publish_sharded(cluster: RedisCluster, prefix: str, quotes: list[dict[str, object]]) -> list[str]:
    """XADD each quote to its symbol's shard key, as restream does on a cluster; the entry ids
    as the consumer reports them (`MS-SEQ@S`), in publish order."""
    keys = stream_keys(prefix, SHARDS)
    client = cluster_client(cluster)
    ids: list[str] = []
    try:
        for start in range(0, len(quotes), 1000):
            pipe = client.pipeline()  # type: ignore[no-untyped-call]
            shards = []
            for q in quotes[start : start + 1000]:
                shard = stream_shard(str(q["symbol"]), SHARDS)
                shards.append(shard)
                frame = json.dumps(q, separators=(",", ":"))
                pipe.xadd(keys[shard], {"symbol": str(q["symbol"]), "frame": frame})
            ids += [f"{raw.decode()}@{shard}" for raw, shard in zip(pipe.execute(), shards, strict=True)]
    finally:
        client.close()
    return ids


def pending_on_shards(cluster: RedisCluster, prefix: str) -> int:
    client = cluster_client(cluster)
    try:
        return sum(int(client.xpending(key, "server_log")["pending"]) for key in stream_keys(prefix, SHARDS))
    finally:
        client.close()


def test_every_shard_once_through_a_kill_and_restart(
    start_server_log: Launcher, names: tuple[str, str], tmp_path: Path, redis_cluster: RedisCluster
) -> None:
    prefix, _ = names
    url = f"{redis_cluster.url}?stream_shards={SHARDS}"
    quotes = [quote(i, now_us()) for i in range(20_000)]
    ids = publish_sharded(redis_cluster, prefix, quotes)
    assert {sid.rpartition("@")[2] for sid in ids} == {"0", "1", "2"}
    out = tmp_path / "logs"
    flags = ("--redis-url", url, "--dir", str(out), "--prefix", prefix, "--batch-size", "200")
    first = start_server_log(None, *flags)
    wait_for(lambda: len(all_ids(out)) > 0, 30, "first lines")
    first.stop(signal.SIGKILL)
    assert len(all_ids(out)) < len(ids), "killed too late to be mid-stream"
    second = start_server_log(None, *flags)
    more_quotes = [quote(i, now_us()) for i in range(20_000, 21_000)]
    more = publish_sharded(redis_cluster, prefix, more_quotes)
    wait_for(lambda: len(all_ids(out)) >= len(ids) + len(more), 60, "every line")
    wait_for(lambda: pending_on_shards(redis_cluster, prefix) == 0, 10, "nothing pending on any shard")

    written = all_ids(out)
    doubled = [sid for sid, n in Counter(written).items() if n > 1]
    assert not doubled, f"lines written twice: {doubled[:5]}"
    assert sorted(written) == sorted(ids + more)
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for path in sorted(out.glob("quotes-*.ndjson*")):
        for line in lines_of(path):
            by_symbol[str(line["symbol"])].append(int(str(line["day_volume"])))
    published: dict[str, list[int]] = defaultdict(list)
    for q in quotes + more_quotes:
        published[str(q["symbol"])].append(int(str(q["day_volume"])))
    assert by_symbol == published  # each symbol's lines in publish order
    status = second.status()
    assert status["malformed"] == 0 and status["streams"] == stream_keys(prefix, SHARDS)
