"""Fan-out benchmark: restream vs. a websockets.broadcast() baseline, in one run.

    uv run --all-packages python bench/fanout/run.py [--clients 100,500,2000] [--seconds N]
        [--quick] [--servers restream,baseline] [--out bench/results/fanout.json]

See bench/fanout/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import crowd
import procfs
import procs
import report
import scenarios
from scenarios import Settings

Json = dict[str, Any]
ROOT = procs.HERE.parent.parent
SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "SPY", "BTC-USD", "ETH-USD"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="fan-out benchmark: restream vs. websockets.broadcast()")
    p.add_argument("--clients", default="100,500,2000", help="client counts for the saturation runs")
    p.add_argument("--seconds", type=float, default=None, help="measurement window per run (default 10, quick 3)")
    p.add_argument("--parts", type=int, default=None, help="cut each window in N, report the quietest (5, quick 3)")
    p.add_argument("--quick", action="store_true", help="smoke run: C=100 only, short windows and stall")
    p.add_argument(
        "--scenarios",
        default="saturation,latency,low,slow",
        help="which scenarios to run (saturation,latency,low,slow; crowd,idle: the 10,000-client ones)",
    )
    p.add_argument("--servers", default="restream,baseline", help="which servers to run")
    p.add_argument(
        "--base-python",
        type=Path,
        default=None,
        help="also run restream from the build this interpreter imports (a baseline worktree's .venv/bin/python), "
        "as server `restream-base`",
    )
    p.add_argument("--crowd-clients", type=int, default=10_000, help="subscribed clients of the crowd scenario")
    p.add_argument(
        "--idle-steps", default="5000,5000", help="idle connections added per step of the idle-memory scenario"
    )
    p.add_argument("--rate", type=float, default=2000.0, help="saturating feed rate, quotes/s per symbol")
    p.add_argument(
        "--symbols",
        type=int,
        default=len(SYMBOLS),
        help=f"symbols in the feed, 1..{len(SYMBOLS)}: each tick carries one quote per symbol, so 1 leaves "
        "restream nothing to coalesce (one frame per write, like broadcast())",
    )
    p.add_argument("--client-batch-ms", type=float, default=0.0, help="clients let frames gather between reads")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fanout.json")
    return p.parse_args(argv)


def settings(args: argparse.Namespace) -> Settings:
    logs = args.out.resolve().parent / "fanout-logs"
    logs.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    return Settings(
        symbols=SYMBOLS[: max(1, min(args.symbols, len(SYMBOLS)))],
        saturate_rate=args.rate,
        window_s=args.seconds or (3.0 if quick else 10.0),
        parts=args.parts or (3 if quick else 5),
        warmup_s=1.0 if quick else 3.0,
        stall_s=8.0 if quick else 30.0,
        stall_timeout_s=3.0 if quick else 10.0,
        drain_wait_s=3.0 if quick else 5.0,
        latency_clients=100,
        stall_clients=100,
        logs=logs,
        client_batch_ms=args.client_batch_ms,
    )


def restream_available() -> bool:
    cmd = [sys.executable, "-m", "servers.restream", "--help"]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30, cwd=ROOT).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def attempt(label: str, run: Callable[[], Awaitable[Json]], notes: list[str]) -> Json | None:
    """Run one measurement; a failure becomes a note, not the end of the benchmark."""
    log(f"{label} ...")
    started = time.monotonic()
    try:
        result = await run()
    except Exception as exc:  # reported; the other runs go on
        notes.append(f"{label}: FAILED {type(exc).__name__}: {exc}")
        log(notes[-1])
        return None
    log(f"{label}: {result.get('delivered_per_s', '')} msg/s in {time.monotonic() - started:.0f}s")
    return result


async def run_all(args: argparse.Namespace, s: Settings, specs: list[procs.ServerSpec], notes: list[str]) -> Json:
    counts = [100] if args.quick else [int(c) for c in args.clients.split(",")]
    results: Json = {"throughput": {}, "latency": {}, "low_load": {}, "slow_consumer": {}}
    wanted = set(args.scenarios.split(","))
    for spec in specs if "saturation" in wanted else []:
        for c in counts:
            r = await attempt(f"{spec.name} saturation C={c}", partial(scenarios.throughput, spec, s, c), notes)
            if r is not None:
                results["throughput"].setdefault(spec.name, {})[str(c)] = r
    offered = _half_of_baseline_max(results, s)
    for spec in specs if "latency" in wanted else []:
        r = await attempt(
            f"{spec.name} latency @ {offered:,.0f}/s", partial(scenarios.latency, spec, s, offered), notes
        )
        if r is not None:
            results["latency"][spec.name] = r
    for spec in specs if "low" in wanted else []:  # a desk's load: what a tick's fixed cost weighs
        r = await attempt(
            f"{spec.name} low load @ {LOW_LOAD:,}/s", partial(scenarios.latency, spec, s, LOW_LOAD), notes
        )
        if r is not None:
            results["low_load"][spec.name] = r
    for spec in specs if "slow" in wanted else []:
        r = await attempt(f"{spec.name} slow consumer", partial(scenarios.slow_consumer, spec, s), notes)
        if r is not None:
            results["slow_consumer"][spec.name] = r
    steps = [int(n) for n in args.idle_steps.split(",")]
    for spec in specs if "idle" in wanted else []:
        r = await attempt(f"{spec.name} idle memory {steps}", partial(crowd.idle_memory, spec, s, steps), notes)
        if r is not None:
            results.setdefault("idle_memory", {})[spec.name] = r
    for spec in specs if "crowd" in wanted else []:
        c = args.crowd_clients
        r = await attempt(f"{spec.name} crowd C={c}", partial(crowd.crowd, spec, s, c), notes)
        if r is not None:
            results.setdefault("crowd", {})[spec.name] = r
    return results


LOW_LOAD = 20_000  # deliveries/s at C=100: 10 symbols at 20 quotes/s each


def _half_of_baseline_max(results: Json, s: Settings) -> float:
    """Half the baseline's saturated rate at the latency run's client count (or any server's)."""
    key = str(s.latency_clients)
    runs = results["throughput"]
    for name in ("baseline", *runs):
        if key in runs.get(name, {}):
            return float(runs[name][key]["delivered_per_s"]) / 2
    return 50_000.0


def oddities(results: Json) -> list[str]:
    """Things that make a figure suspect: client saturated, server not saturated, lost clients."""
    found: list[str] = []
    windows = [(f"saturation C={c} {n}", w) for n, runs in results["throughput"].items() for c, w in runs.items()]
    windows += [(f"latency {n}", w) for n, w in results["latency"].items()]
    windows += [
        (f"slow consumer {n} ({k})", r[k]) for n, r in results["slow_consumer"].items() for k in ("no_stall", "stall")
    ]
    for label, w in windows:
        if w["client_cpu_pct"] > 90:
            found.append(
                f"{label}: client process at {w['client_cpu_pct']}% CPU (server {w['server_cpu_pct']}%): "
                + ("both near their limit" if w["server_cpu_pct"] >= 95 else "the client may be the bottleneck")
            )
        if w["steal_cpu_pct"] > 5:
            found.append(f"{label}: {w['steal_cpu_pct']}% CPU stolen by the hypervisor during the window")
        if w["other_cpu_pct"] > 10:
            found.append(f"{label}: {w['other_cpu_pct']}% CPU used by other processes on the machine during the window")
        if label.startswith("saturation") and w["server_cpu_pct"] < 90:
            found.append(f"{label}: server only at {w['server_cpu_pct']}% CPU, not saturated")
        expected = w.get("clients", 100) - (1 if label.startswith("slow") else 0)
        if w["connected"] < expected or w["receiving"] < expected or w["disconnects"] or w["errors"]:
            found.append(
                f"{label}: {w['connected']} connected, {w['receiving']} receiving of {expected}, "
                f"{w['errors']} errors, {w['disconnects']} disconnects, close codes {w['close_codes']}"
            )
    return found


def machine_busy_pct(seconds: float = 2.0) -> float:
    """How busy the machine is before we start (all CPUs; 200 = both cores busy)."""
    a = procfs.machine()
    time.sleep(seconds)
    return round(100 * (procfs.machine().busy_s - a.busy_s) / seconds, 1)


def main() -> None:
    args = parse_args()
    procs.pin(0, procs.CLIENT_CPU)  # keep CPU 0 for the server alone
    s = settings(args)
    notes: list[str] = []
    specs = [procs.SPECS[name] for name in args.servers.split(",")]
    if args.base_python is not None:  # the same restream, from another build: before / after
        specs.append(dataclasses.replace(procs.RESTREAM, name="restream-base", python=str(args.base_python)))
    wanted = set(args.scenarios.split(","))
    if wanted & {"crowd", "idle"}:
        clients = max(args.crowd_clients, max(int(n) for n in args.idle_steps.split(",")))
        limit = procs.raise_fd_limit(crowd.fd_wanted(clients))
        log(f"RLIMIT_NOFILE {limit} for the server and load processes")
    if procs.RESTREAM in specs and not restream_available():
        specs.remove(procs.RESTREAM)
        notes.append("restream skipped: `python -m servers.restream --help` failed")
        log(notes[-1])
    busy_before = machine_busy_pct()
    if busy_before > 10:
        notes.append(f"the machine was {busy_before}% busy (CPU-% over all cores) before the run started")
        log(notes[-1])
    started, load_before = time.time(), os.getloadavg()
    results = asyncio.run(run_all(args, s, specs, notes))
    notes += oddities(results) + crowd.oddities(results)
    results["meta"] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "quick": args.quick,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "machine_busy_before_pct": busy_before,
        "client_batch_ms": s.client_batch_ms,
        "symbols": s.symbols,
        "saturate_rate_per_symbol": s.saturate_rate,
        "window_s": s.window_s,
        "warmup_s": s.warmup_s,
        "stall_s": s.stall_s,
        "logs": str(s.logs),
    }
    results["notes"] = notes
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report.markdown(results))
    for note in notes:
        print(f"\n- {note}", end="")
    print(f"\n\nJSON: {args.out}  ({results['meta']['duration_s']} s)")


if __name__ == "__main__":
    main()
