"""The crowd scenarios (issue 16): many clients at a light load, and what an idle one costs.

- `crowd`: `clients` subscribed clients (every symbol) spread over `LOAD_PROCESSES` load
  processes, the feed at `CROWD_RATE` quotes/s per symbol; are they all connected and
  receiving, with no errors, and what does the server hold (RSS)?
- `idle_memory`: the server's RSS with 0 connections, then after each step of idle ones
  (upgraded, nothing subscribed), each step from a load process of its own: the memory a
  connection costs the server, with nothing to send it.

The load processes are started one after another, each connecting its clients with a bounded
number of handshakes in flight (client.py's `--concurrency`), so the server's accept backlog
is never what limits a connect. The file descriptors they need come from the harness raising
RLIMIT_NOFILE before it starts any process (procs.raise_fd_limit): children inherit it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import procfs
from procs import Load, Server, ServerSpec, running_server
from scenarios import Mark, Settings, figures, load_for

Json = dict[str, Any]

CROWD_RATE = 1.0  # quotes/s per symbol: every client gets one tick of all the symbols a second
LOAD_PROCESSES = 2
IDLE_SETTLE_S = 2.0  # after a step's clients are connected, before RSS is read
CONNECT_TIMEOUT_S = 300.0


def split(clients: int, parts: int) -> list[int]:
    """`clients` in `parts` near-equal shares (the first ones get the remainder)."""
    share, extra = divmod(clients, parts)
    return [share + (i < extra) for i in range(parts)]


def fd_wanted(clients: int) -> int:
    """Descriptors a crowd of `clients` needs in one process: the server holds one a client, a
    load process with kernel stamps two (its duplicate for recvmsg), plus room for the rest."""
    return 2 * clients + 4096


def merged(marks: Sequence[Json]) -> Json:
    """One mark of the load processes' marks: counts summed, extremes kept, latency per process
    (percentiles of separate samples do not add up)."""
    close_codes: Counter[str] = Counter()
    for m in marks:
        close_codes.update(m["close_codes"])
    summed = ("frames", "connected", "receiving", "errors", "disconnects", "resets")
    return {
        "t": max(m["t"] for m in marks),
        **{key: sum(m[key] for m in marks) for key in summed},
        "min_client_frames": min(m["min_client_frames"] for m in marks),
        "max_client_frames": max(m["max_client_frames"] for m in marks),
        "close_codes": dict(close_codes),
        "latency": [m["latency"] for m in marks],
        "latency_in_read": [m["latency_in_read"] for m in marks],
        "latency_in_kernel": [m["latency_in_kernel"] for m in marks],
        "stalled": None,
    }


def summed(samples: Sequence[procfs.ProcSample]) -> procfs.ProcSample:
    return procfs.ProcSample(
        sum(p.cpu_s for p in samples), sum(p.rss_kb for p in samples), sum(p.hwm_kb for p in samples)
    )


async def _mark(server: Server, loads: Sequence[Load]) -> Mark:
    marks = [await load.command("mark") for load in loads]
    machine = procfs.machine()
    return Mark(merged(marks), server.sample(), summed([x.sample() for x in loads]), machine, await server.metrics())


@contextlib.asynccontextmanager
async def _loads(
    server: Server, spec: ServerSpec, s: Settings, counts: Sequence[int], name: str, *, idle: bool
) -> AsyncIterator[list[Load]]:
    """The load processes, each started once the one before it has connected its clients."""
    async with contextlib.AsyncExitStack() as stack:
        loads = []
        for i, count in enumerate(counts):
            log = s.logs / f"{name}.client{i}.log"
            options = {"connect_timeout": CONNECT_TIMEOUT_S, "kernel_stamps": not idle, "idle": idle}
            load = await stack.enter_async_context(load_for(server, spec, s, count, log, stall_client=False, **options))
            loads.append(load)
        yield loads


def _worst(windows: list[Json], key: str) -> int | None:
    values: list[int] = [w[key] for w in windows if w.get(key) is not None]
    return max(values, default=None)


def _latency(per_process: list[Json]) -> Json:
    """The worst of the load processes' percentiles (each is over its own clients)."""
    return {key: _worst(per_process, key) for key in ("p50_us", "p99_us", "max_us")} | {
        "n": sum(p.get("n", 0) for p in per_process)
    }


async def crowd(spec: ServerSpec, s: Settings, clients: int) -> Json:
    """`clients` subscribed clients over LOAD_PROCESSES processes, CROWD_RATE quotes/s a symbol."""
    name = f"{spec.name}-crowd{clients}"
    config = spec.write_config(s.logs / f"{name}.config.json5", None)
    counts = split(clients, LOAD_PROCESSES)
    async with (
        running_server(spec, s.symbols, CROWD_RATE, config, s.logs / f"{name}.server.log") as server,
        _loads(server, spec, s, counts, name, idle=False) as loads,
    ):
        connect = [{key: x.ready[key] for key in ("connected", "errors", "error_samples", "connect_s")} for x in loads]
        await asyncio.sleep(s.warmup_s)
        before = await _mark(server, loads)
        await asyncio.sleep(s.window_s)
        after = await _mark(server, loads)
    found = figures(before, after)
    for key in ("latency", "latency_in_read", "latency_in_kernel"):
        found[f"{key}_by_process"] = found[key]
        found[key] = _latency(found[key])
    return {"clients": clients, "load_processes": counts, "rate_per_symbol": CROWD_RATE, "connect": connect, **found}


async def idle_memory(spec: ServerSpec, s: Settings, steps: Sequence[int]) -> Json:
    """Server RSS at 0 connections and after each step of idle ones; kB per connection."""
    name = f"{spec.name}-idle"
    config = spec.write_config(s.logs / f"{name}.config.json5", None)
    points: list[Json] = []
    async with running_server(spec, s.symbols, CROWD_RATE, config, s.logs / f"{name}.server.log") as server:
        await asyncio.sleep(IDLE_SETTLE_S)
        points.append({"connections": 0, "rss_kb": server.sample().rss_kb})
        async with contextlib.AsyncExitStack() as stack:
            total = 0
            for i, count in enumerate(steps):
                load = await stack.enter_async_context(_loads(server, spec, s, [count], f"{name}{i}", idle=True))
                total += load[0].ready["connected"]
                await asyncio.sleep(IDLE_SETTLE_S)
                points.append({"connections": total, "rss_kb": server.sample().rss_kb})
            peak_kb = server.sample().hwm_kb
    return {
        "steps": list(steps),
        "points": points,
        "per_connection_kib": per_connection_kib(points),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def per_connection_kib(points: list[Json]) -> list[float | None]:
    """RSS growth per connection from each point to the next, and from the first to the last
    (KiB; None where no connection was added)."""
    pairs = [*itertools.pairwise(points), (points[0], points[-1])]
    return [
        round((b["rss_kb"] - a["rss_kb"]) / added, 2) if (added := b["connections"] - a["connections"]) else None
        for a, b in pairs
    ]


def oddities(results: Json) -> list[str]:
    """A crowd that did not all connect and receive, or saw errors."""
    found = []
    for name, w in results.get("crowd", {}).items():
        if w["connected"] < w["clients"] or w["receiving"] < w["clients"] or w["errors"] or w["disconnects"]:
            found.append(
                f"crowd {name}: {w['connected']} connected, {w['receiving']} receiving of {w['clients']}, "
                f"{w['errors']} errors, {w['disconnects']} disconnects, close codes {w['close_codes']}"
            )
    for name, r in results.get("idle_memory", {}).items():
        if r["points"][-1]["connections"] < sum(r["steps"]):
            found.append(f"idle memory {name}: {r['points'][-1]['connections']} of {sum(r['steps'])} connected")
    return found
