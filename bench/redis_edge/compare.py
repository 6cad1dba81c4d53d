"""Edge delivered/s of two set-ups at the same offered load, rounds alternating in one run (issue 14).

    uv run --all-packages python bench/redis_edge/compare.py cluster [--rounds 3] [--rates 500,2000]
    uv run --all-packages python bench/redis_edge/compare.py reuse-port [--rounds 3] [--rates 2000]

- `cluster`: ingest restream → Redis → edge restream → clients, with Redis one private
  redis-server, or a private 3-master + 3-replica Redis Cluster (tests/redis_cluster.py, ports
  ≤ 55535; the ingest and the edge on `redis+cluster://...?stream_shards=3`).
- `reuse-port`: one private Redis; one edge process, or two edge processes sharing the port
  (`listen.reuse_port`: the kernel spreads the clients' connections over both).

Placement (taskset, `procs.pin`): clients on CPU 1, the ingest node and every redis-server on
CPU 0, an edge on CPU 0; the second edge of `reuse-port` on CPU 1 (`two-edges-0+1`) or on CPU
0 beside the first (`two-edges-0+0`). See README.md; `--out` writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(HERE.parent / "fanout"), str(ROOT)]

import procfs  # noqa: E402
import procs  # noqa: E402
import run as edge_bench  # noqa: E402  (bench/redis_edge/run.py)

from tests.redis_cluster import RedisCluster, cli  # noqa: E402

Json = dict[str, Any]


@dataclass(frozen=True)
class Setup:
    """One side of a comparison: the Redis URL, its masters' ports and every node's, and the
    edges' CPUs."""

    name: str
    url: str
    redis_ports: list[int]
    all_redis_ports: list[int]
    edge_cpus: tuple[int, ...] = (procs.SERVER_CPU,)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("cluster", "reuse-port"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rates", default="500,2000", help="offered loads: quotes/s per symbol, comma-separated")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--symbols", type=int, default=len(edge_bench.SYMBOLS))
    p.add_argument("--seconds", type=float, default=8.0, help="measurement window per run")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument(
        "--syscalls",
        action="store_true",
        help="count the edges' sends, receives and polls over each window (perf stat; a diagnostic run)",
    )
    p.add_argument("--out", type=Path)
    return p.parse_args()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@contextlib.contextmanager
def cluster_setup(directory: Path) -> Iterator[RedisCluster]:
    cluster = RedisCluster(directory)
    try:
        for proc in cluster.procs.values():
            procs.pin(proc.pid, procs.SERVER_CPU)
        yield cluster
    finally:
        cluster.stop()


async def edge_run(setup: Setup, args: argparse.Namespace, rate: float, logs: Path, tag: str) -> Json:
    """Ingest → Redis → the setup's edges → clients at `rate`: what the clients got per second."""
    for port in setup.redis_ports:  # each run starts from empty Redis memory
        cli(port, "FLUSHALL")
    symbols = edge_bench.SYMBOLS[: args.symbols]
    restream = ["-m", "servers.restream"]
    name = f"{tag}-{setup.name}-{rate:g}"
    async with contextlib.AsyncExitStack() as stack:
        publish = {"publish": {"prefix": edge_bench.PREFIX}}
        ingest = [*restream, "--symbols", ",".join(symbols), "--rate", str(rate), "--publish"]
        ingest += ["--redis-url", setup.url, "--config", edge_bench.config(logs, f"{name}-ingest", publish)]
        ingest_port = await stack.enter_async_context(
            edge_bench.server(f"{name}-ingest", ingest, logs, procs.SERVER_CPU)
        )
        shared = len(setup.edge_cpus) > 1
        body: Json = {"feed": {"kind": "redis", "prefix": edge_bench.PREFIX}}
        if shared:
            body["listen"] = {"reuse_port": True}
        port: int | None = procs.free_port() if shared else None
        for i, cpu in enumerate(setup.edge_cpus):
            argv = [*restream, "--redis-url", setup.url, "--config", edge_bench.config(logs, f"{name}-edge{i}", body)]
            port = await stack.enter_async_context(edge_bench.server(f"{name}-edge{i}", argv, logs, cpu, port))
        assert port is not None
        subscribe = {"op": "subscribe", "symbols": symbols}
        ws_path = f"/ws?token={procs.BENCH_TOKEN}"
        lp = await stack.enter_async_context(
            edge_bench.load(port, ws_path, args.clients, subscribe, "ts_library_out", logs, name, False)
        )
        roles = {
            "edges": listening_pids([port]),
            "ingest": listening_pids([ingest_port]),
            "redis": listening_pids(setup.all_redis_ports),
            "clients": {lp.proc.pid},
        }

        def cpu() -> dict[str, float]:
            used = {role: sum(procfs.sample(pid).cpu_s for pid in pids) for role, pids in roles.items()}
            return used | {"machine": procfs.machine().busy_s}  # "machine": every process, others' too

        async def syscalls(seconds: float) -> Json:
            return await count_syscalls(roles["edges"], seconds)

        result = await edge_bench.measure(lp, args.warmup, args.seconds, cpu, syscalls if args.syscalls else None)
        result.pop("latency_us", None)
        result["clients_per_edge"] = clients_per_process(port)
        result["edge_frames"] = await edge_frames(port)
        if args.syscalls:
            sends = result["during"].get("syscalls:sys_enter_sendto", 0)
            result["edge_sends_per_delivered_msg"] = round(sends / max(1.0, result["msg_per_s"] * args.seconds), 3)
        return result


async def edge_frames(port: int) -> Json:
    """An edge's frame counters since its start (with two on the port: whichever answered), and
    the share of its clients' frames conflated away (their queues were backlogged)."""
    status, body = await asyncio.to_thread(procs.http_get, port, "/metrics")
    metrics = procs.parse_prometheus(body) if status == 200 else {}
    counts = {k: int(metrics.get(f"restream_frames_{k}_total", 0)) for k in ("in", "out", "conflated")}
    return counts | {"conflated_share": round(counts["conflated"] / max(1, counts["out"] + counts["conflated"]), 3)}


SYSCALLS = ("syscalls:sys_enter_sendto", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_epoll_wait")


async def count_syscalls(pids: set[int], seconds: float) -> Json:
    """How many sends, receives and polls `pids` made over `seconds` (`perf stat` counting
    tracepoints in the kernel: no sampling, little overhead)."""
    argv = ["perf", "stat", "-x", ",", "-e", ",".join(SYSCALLS), "-p", ",".join(map(str, pids))]
    proc = await asyncio.create_subprocess_exec(
        *argv, "--", "sleep", str(seconds), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    counts: Json = {}
    for line in err.decode().splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] in SYSCALLS and fields[0].isdigit():
            counts[fields[2]] = int(fields[0])
    return counts


def _ss(*filters: str) -> str:
    return subprocess.run(["ss", "-Htnp", *filters], capture_output=True, text=True, check=False).stdout


def listening_pids(ports: list[int]) -> set[int]:
    """The processes listening on `ports` (`ss`)."""
    return {int(pid) for port in ports for pid in re.findall(r"pid=(\d+),", _ss("-l", f"( sport = :{port} )"))}


def clients_per_process(port: int) -> list[int]:
    """How the kernel spread the established connections on `port` over the processes serving
    it (`ss`), most first."""
    counts = Counter(re.findall(r"pid=(\d+),", _ss("state", "established", f"( sport = :{port} )")))
    return sorted(counts.values(), reverse=True)


async def compare(setups: list[Setup], args: argparse.Namespace, logs: Path) -> Json:
    """Every setup at every rate, each round; the order of the setups alternates by round."""
    rates = [float(r) for r in args.rates.split(",")]
    runs: dict[str, dict[str, list[Json]]] = {f"{r:g}": {s.name: [] for s in setups} for r in rates}
    for round_ in range(args.rounds):
        order = setups if round_ % 2 == 0 else setups[::-1]
        for rate in rates:
            for setup in order:
                result = await edge_run(setup, args, rate, logs, f"r{round_}")
                runs[f"{rate:g}"][setup.name].append(result)
                print(
                    f"round {round_ + 1}, rate {rate:g}/symbol: {setup.name}: {result['msg_per_s']:,} msg/s "
                    f"({result['receiving']}/{result['connected']} clients receiving; "
                    f"per edge process {result['clients_per_edge']}; CPU cores {result['cpu_cores']})",
                    flush=True,
                )
    base = setups[0].name
    summary: Json = {}
    for rate, by_setup in runs.items():
        medians = {name: statistics.median(r["msg_per_s"] for r in results) for name, results in by_setup.items()}
        summary[rate] = {
            name: {
                "offered_msg_per_s": round(float(rate) * args.symbols * args.clients),
                "median_msg_per_s": round(medians[name]),
                "rounds": [r["msg_per_s"] for r in by_setup[name]],
                f"vs {base}": round(medians[name] / (medians[base] or 1), 3),
                "cpu_cores_median": {
                    role: statistics.median(r["cpu_cores"][role] for r in by_setup[name])
                    for role in by_setup[name][0]["cpu_cores"]
                },
            }
            for name in by_setup
        }
    return {"runs": runs, "summary": summary}


async def amain(args: argparse.Namespace, tmp: Path) -> Json:
    logs = (args.out.resolve().parent if args.out else tmp) / "redis_edge-compare-logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs.pin(0, procs.CLIENT_CPU)
    with edge_bench.private_redis(logs, procs.SERVER_CPU) as single_url:
        single = Setup("one-redis", single_url, [port_of(single_url)], [port_of(single_url)])
        if args.mode == "cluster":
            with cluster_setup(tmp / "cluster") as cluster:
                url = cluster.url + "?stream_shards=3"
                setups = [single, Setup("cluster-3-masters", url, cluster.masters(), cluster.ports)]
                return await compare(setups, args, logs)
        redis = (single_url, single.redis_ports, single.all_redis_ports)
        setups = [
            Setup("one-edge", *redis),
            Setup("two-edges-0+1", *redis, (procs.SERVER_CPU, procs.CLIENT_CPU)),
            Setup("two-edges-0+0", *redis, (procs.SERVER_CPU, procs.SERVER_CPU)),
        ]
        return await compare(setups, args, logs)


def main() -> None:
    args = parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(amain(args, Path(tmp)))
    results["settings"] = vars(args) | {"out": str(args.out)}
    results["loadavg_before"] = load_before
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(results["summary"], indent=2))
    print("load average before / after:", " ".join(load_before), "/", " ".join(results["loadavg_after"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
