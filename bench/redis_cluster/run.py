"""Publish throughput on a Redis Cluster vs. one Redis, same run (issue 14).

    uv run --all-packages python bench/redis_cluster/run.py [--frames 200000] [--rounds 3]
        [--out bench/results/redis_cluster.json]

The bus's own Publisher (the ingest's path: batches of up to 1,000 frames, PUBLISH/SPUBLISH +
XADD per frame) is offered `--frames` quote frames of 20 symbols at once and timed until Redis
has confirmed them all, on:

- one private redis-server (`redis://`, the one stream key);
- a private 3-master + 3-replica cluster (tests/redis_cluster.py), `stream_shards=3`;
- the same cluster with `wait_replicas=1` (each master's part of a batch WAITed for a replica).

Rounds alternate the targets, so drift in the machine's load hits them alike; the figure is the
median of the rounds. Every server is private (free ports; the shared Redis is never touched).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lib_common.core.frame import Frame  # noqa: E402
from lib_common.core.quote import Quote  # noqa: E402
from lib_common.redis_bus.links import connect_publish  # noqa: E402
from lib_common.redis_bus.publisher import Publisher  # noqa: E402
from tests.redis_cluster import RedisCluster, cli, free_cluster_ports  # noqa: E402

SYMBOLS = [f"S{i:02d}" for i in range(20)]


def frames(n: int) -> list[Frame]:
    now = time.time_ns() // 1000
    return [
        Frame.quote(Quote(symbol=SYMBOLS[i % len(SYMBOLS)], ts_upstream=now + i, ts_library_in=now, price=100.0), now)
        for i in range(n)
    ]


async def publish_rate(url: str, batch: list[Frame], prefix: str) -> float:
    publisher = Publisher(lambda: connect_publish(url, prefix, 10_000_000), buffer=len(batch) + 1)
    await publisher.start()
    try:
        while not publisher.connected:
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        publisher.offer(batch)
        while publisher.published < len(batch):
            await asyncio.sleep(0.005)
        return len(batch) / (time.perf_counter() - started)
    finally:
        await publisher.stop()


def start_single(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_cluster_ports(1)[0]
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while cli(port, "PING") != "PONG":
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def flush(ports: list[int]) -> None:
    for port in ports:
        cli(port, "FLUSHALL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    batch = frames(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        single, single_url = start_single(Path(tmp))
        cluster = RedisCluster(Path(tmp) / "cluster")
        targets = {
            "one Redis": (single_url, [int(single_url.rsplit(":", 1)[1].split("/")[0])]),
            "cluster, 3 masters, stream_shards=3": (cluster.url + "?stream_shards=3", cluster.masters()),
            "cluster, 3 masters, stream_shards=3, wait_replicas=1": (
                cluster.url + "?stream_shards=3&wait_replicas=1",
                cluster.masters(),
            ),
        }
        rates: dict[str, list[float]] = {name: [] for name in targets}
        try:
            for round_ in range(args.rounds):
                for name, (url, masters) in targets.items():
                    flush(masters)
                    rate = asyncio.run(publish_rate(url, batch, f"bench{round_}:"))
                    rates[name].append(rate)
                    print(f"round {round_ + 1}: {name}: {rate:,.0f} frames/s", flush=True)
        finally:
            cluster.stop()
            single.kill()
    base = statistics.median(rates["one Redis"])
    result = {
        name: {"median_frames_per_s": round(statistics.median(r)), "rounds": [round(x) for x in r],
               "vs_one_redis": round(statistics.median(r) / base, 2)}
        for name, r in rates.items()
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"frames": args.frames, "rounds": args.rounds, "results": result}, indent=2))


if __name__ == "__main__":
    main()
