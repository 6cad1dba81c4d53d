"""Scale-out benchmark: restream serving its own feed vs. an edge restream (`--feed redis`) fed
by an ingest restream through Redis, vs. redis2ws; and end-to-end latency ingest → edge client.

    uv run --all-packages python bench/redis_edge/run.py [--clients 100] [--seconds 10]
        [--rate 2000] [--latency-rate 10] [--out bench/results/redis_edge.json]

See bench/redis_edge/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fanout"))

import latency  # noqa: E402
import procs  # noqa: E402

ROOT = HERE.parent.parent
SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "SPY", "BTC-USD", "ETH-USD"]
PREFIX = "rsdev-bench:"
Json = dict[str, Any]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="restream own feed vs. edge through Redis vs. redis2ws")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10.0, help="measurement window per run")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--rate", type=float, default=2000.0, help="saturating feed rate, quotes/s per symbol")
    p.add_argument("--latency-rate", type=float, default=10.0, help="moderate feed rate for the latency run")
    p.add_argument("--symbols", type=int, default=len(SYMBOLS))
    p.add_argument(
        "--aux-cpu",
        choices=("server", "client", "none"),
        default="server",
        help="where the ingest node and redis-server run: on the server's CPU (default), the clients', or unpinned",
    )
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "redis_edge.json")
    return p.parse_args()


@contextlib.contextmanager
def private_redis(logs: Path, cpu: int | None) -> Any:
    port = procs.free_port()
    with (logs / "redis.log").open("wb") as out:
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if cpu is not None:
        procs.pin(proc.pid, cpu)
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.asynccontextmanager
async def server(
    name: str, argv: list[str], logs: Path, cpu: int | None, port: int | None = None
) -> AsyncIterator[int]:
    """A server process on `port` (a free one by default), pinned to `cpu`, once healthy. On a
    port given (shared with SO_REUSEPORT), /health may be another process's answer, so its own
    startup line is awaited too."""
    shared, port = port is not None, port or procs.free_port()
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *argv, "--host", "127.0.0.1", "--port", str(port), stdout=out, stderr=subprocess.STDOUT
        )
    if cpu is not None:
        procs.pin(proc.pid, cpu)

    def ready() -> bool:
        if shared and b"Application startup complete" not in log.read_bytes():
            return False
        return procs.http_get(port, "/health", 1.0)[0] == 200

    try:
        deadline = time.monotonic() + 30
        while not await asyncio.to_thread(ready):
            if proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy; see {log}")
            await asyncio.sleep(0.2)
        yield port
    finally:
        await procs._stop(proc)


@contextlib.asynccontextmanager
async def load(
    port: int, path: str, clients: int, subscribe: Json, stamp: str, logs: Path, name: str, kernel_stamps: bool
) -> Any:
    argv = [sys.executable, str(HERE / "client.py"), "--subscribe-json", json.dumps(subscribe), "--stamp", stamp]
    argv += ["--kernel-stamps"] if kernel_stamps else []
    argv += ["--port", str(port), "--path", path, "--clients", str(clients), "--symbols", "X", "--sample-every", "4"]
    with (logs / f"{name}.client.log").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err
        )
    procs.pin(proc.pid, procs.CLIENT_CPU)
    try:
        ready = await procs._read_json(proc, 180)
        yield procs.Load(proc, ready)
    finally:
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(b'{"cmd": "quit"}\n')
            proc.stdin.close()
        await procs._stop(proc)


async def measure(
    lp: procs.Load,
    warmup: float,
    seconds: float,
    cpu: Callable[[], dict[str, float]] | None = None,
    during: Callable[[float], Awaitable[Json]] | None = None,
) -> Json:
    """The clients' figures over the window; with `cpu` (CPU-seconds so far by role), each
    role's CPU use over it too, in cores; with `during`, what it returns, run over the window."""
    await asyncio.sleep(warmup)
    first = await lp.command("mark")
    cpu_first = cpu() if cpu else {}
    observed = await during(seconds) if during else await asyncio.sleep(seconds)
    last = await lp.command("mark")
    cpu_last = cpu() if cpu else {}
    elapsed = last["t"] - first["t"]
    result = {
        "msg_per_s": round((last["frames"] - first["frames"]) / elapsed),
        "receiving": last["receiving"],
        "connected": last["connected"],
        "latency_us": last["latency"],
        "latency_in_read_us": last["latency_in_read"],  # from ts_library_in (the fan-out bench's sampler)
        "latency_in_kernel_us": last["latency_in_kernel"],  # ... to the kernel's receipt (kernel stamps on)
    }
    if cpu:
        result["cpu_cores"] = {role: round((cpu_last[role] - cpu_first[role]) / elapsed, 2) for role in cpu_last}
    if during:
        result["during"] = observed
    return result


def aux_cpu(args: argparse.Namespace) -> int | None:
    """The CPU of the processes that are neither the server under test nor the clients."""
    return {"server": procs.SERVER_CPU, "client": procs.CLIENT_CPU}.get(args.aux_cpu)


def config(logs: Path, name: str, body: Json) -> str:
    path = logs / f"{name}.json5"
    path.write_text(json.dumps({"tenants": [procs.RESTREAM_TENANT], "limits": procs.RESTREAM_LIMITS, **body}, indent=2))
    return str(path)


async def scenario(
    kind: str, args: argparse.Namespace, url: str, rate: float, logs: Path, stamp: str, kernel_stamps: bool = False
) -> Json:
    symbols = SYMBOLS[: args.symbols]
    feed = ["--symbols", ",".join(symbols), "--rate", str(rate)]
    restream = ["-m", "servers.restream"]
    ws_path = f"/ws?token={procs.BENCH_TOKEN}"
    quote_subscribe = {"op": "subscribe", "symbols": symbols}
    async with contextlib.AsyncExitStack() as stack:
        if kind == "own":
            port = await stack.enter_async_context(
                server(
                    f"{kind}-restream", [*restream, *feed, "--config", config(logs, kind, {})], logs, procs.SERVER_CPU
                )
            )
            subscribe = quote_subscribe
        else:
            publish = {"publish": {"prefix": PREFIX}}
            await stack.enter_async_context(
                server(
                    f"{kind}-ingest",
                    [
                        *restream,
                        *feed,
                        "--publish",
                        "--redis-url",
                        url,
                        "--config",
                        config(logs, f"{kind}-ingest", publish),
                    ],
                    logs,
                    aux_cpu(args),
                )
            )
            if kind == "edge":
                body = {"feed": {"kind": "redis", "prefix": PREFIX}}
                argv = [*restream, "--redis-url", url, "--config", config(logs, f"{kind}-edge", body)]
                subscribe = quote_subscribe
            else:
                argv = ["-m", "servers.redis2ws", "--redis-url", url, "--config", config(logs, kind, {})]
                subscribe = {"op": "subscribe", "channels": [f"{PREFIX}quote:{s}" for s in symbols]}
            port = await stack.enter_async_context(server(f"{kind}-server", argv, logs, procs.SERVER_CPU))
        lp = await stack.enter_async_context(
            load(port, ws_path, args.clients, subscribe, stamp, logs, f"{kind}-{rate:g}", kernel_stamps)
        )
        result = await measure(lp, args.warmup, args.seconds)
        result["server_status"] = json.loads((await asyncio.to_thread(procs.http_get, port, "/status"))[1] or "{}")
        return result


async def amain(args: argparse.Namespace) -> Json:
    logs = args.out.resolve().parent / "redis_edge-logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs.pin(0, procs.CLIENT_CPU)
    results: Json = {"settings": vars(args) | {"out": str(args.out)}}
    with private_redis(logs, aux_cpu(args)) as url:
        for kind in ("own", "edge", "redis2ws"):
            results[kind] = await scenario(kind, args, url, args.rate, logs, "ts_library_out")
        # The same offered load for all three: what `own` delivered at saturation. On 2 cores an
        # edge at saturation shares them with the ingest node and redis-server, which `own` does
        # not have to; at the load `own` can carry, the question is whether the edge keeps up.
        matched = round((results["own"]["msg_per_s"] or 1) / (args.clients * args.symbols), 2)
        results["matched_rate"] = matched
        for kind in ("own", "edge", "redis2ws"):
            results[f"{kind}@matched"] = await scenario(kind, args, url, matched, logs, "ts_library_out")
        # End to end as bench/fanout measures it: from ts_library_in to the kernel's receipt, and
        # own at the same rate beside the edge and redis2ws (bench/redis_edge/latency.py).
        results.update(await latency.fair_latency(scenario, args, url, logs))
    own = results["own"]["msg_per_s"] or 1
    own_matched = results["own@matched"]["msg_per_s"] or 1
    results["ratios"] = {
        "edge/own (saturation)": round(results["edge"]["msg_per_s"] / own, 3),
        "redis2ws/own (saturation)": round(results["redis2ws"]["msg_per_s"] / own, 3),
        "edge/own (own's capacity offered)": round(results["edge@matched"]["msg_per_s"] / own_matched, 3),
        "redis2ws/own (own's capacity offered)": round(results["redis2ws@matched"]["msg_per_s"] / own_matched, 3),
    }
    return results


def main() -> None:
    args = parse_args()
    results = asyncio.run(amain(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print("| figure | value |\n|---|---|")
    for kind in ("own", "edge", "redis2ws"):
        print(
            f"| {kind}: delivered msg/s (C={args.clients}, rate {args.rate:g}/symbol) | {results[kind]['msg_per_s']} |"
        )
    for kind in ("own", "edge", "redis2ws"):
        rate = results["matched_rate"]
        print(
            f"| {kind}: delivered msg/s (C={args.clients}, rate {rate:g}/symbol) "
            f"| {results[kind + '@matched']['msg_per_s']} |"
        )
    for name, value in results["ratios"].items():
        print(f"| ratio {name} | {value} |")
    for row in latency.rows(results, args):
        print(row)


if __name__ == "__main__":
    main()
