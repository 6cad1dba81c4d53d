"""The measured scenarios, each written once and run for every server kind."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import procfs
from procs import Load, Server, ServerSpec, histogram_quantile, running_load, running_server

Json = dict[str, Any]

EVICTION_METRICS = ("restream_frames_conflated_total", "restream_clients_evicted_total")


@dataclass(frozen=True)
class Settings:
    symbols: list[str]
    saturate_rate: float  # quotes/s per symbol: more than either server can fan out
    window_s: float
    parts: int  # saturation and half-load windows are cut into this many; the quietest counts
    warmup_s: float
    stall_s: float
    stall_timeout_s: float  # restream's memory.stall_timeout_s in the slow-consumer run
    drain_wait_s: float  # after resuming, how long to wait for the stalled client to be closed
    latency_clients: int
    stall_clients: int  # total, including the one that stalls
    logs: Path
    client_batch_ms: float  # 0: clients read as soon as data arrives


def load_for(
    server: Server, spec: ServerSpec, s: Settings, clients: int, log: Path, **options: Any
) -> AbstractAsyncContextManager[Load]:
    """A load process of `clients` clients of `server`, on the run's symbols and read batching;
    `options` are running_load's (stall_client among them)."""
    return running_load(server.port, spec.ws_path, clients, s.symbols, batch_ms=s.client_batch_ms, log=log, **options)


@dataclass
class Session:
    server: Server
    load: Load


@asynccontextmanager
async def session(
    spec: ServerSpec,
    s: Settings,
    clients: int,
    rate: float,
    tag: str,
    *,
    stall: bool = False,
    memory: Json | None = None,
) -> AsyncIterator[Session]:
    """A server on CPU 0 and `clients` connected load clients on CPU 1, warmed up."""
    name = f"{spec.name}-{tag}"
    config = spec.write_config(s.logs / f"{name}.config.json5", memory)
    async with running_server(spec, s.symbols, rate, config, s.logs / f"{name}.server.log") as server:
        normal = clients - 1 if stall else clients
        log = s.logs / f"{name}.client.log"
        async with load_for(
            server,
            spec,
            s,
            normal,
            log,
            stall_client=stall,
            kernel_stamps=tag == "latency",  # receipt by the kernel as well as by the load process
        ) as load:
            await asyncio.sleep(s.warmup_s)
            yield Session(server, load)


@dataclass(frozen=True)
class Mark:
    load: Json  # the client process's counters
    server: procfs.ProcSample
    client: procfs.ProcSample
    machine: procfs.MachineSample
    metrics: dict[str, float] | None


async def _mark(sess: Session) -> Mark:
    load = await sess.load.command("mark")
    machine = procfs.machine()
    return Mark(load, sess.server.sample(), sess.load.sample(), machine, await sess.server.metrics())


def _others_cpu_pct(a: Mark, b: Mark, elapsed: float) -> float:
    """Busy CPU on the machine beyond the server and client processes: interference."""
    ours = (b.server.cpu_s - a.server.cpu_s) + (b.client.cpu_s - a.client.cpu_s)
    return round(100 * max(0.0, (b.machine.busy_s - a.machine.busy_s) - ours) / elapsed, 1)


PART_SUMMARY = ("window_s", "delivered_per_s", "server_cpu_pct", "client_cpu_pct", "other_cpu_pct", "steal_cpu_pct")


async def measure(sess: Session, seconds: float, parts: int = 1) -> Json:
    """Figures over `seconds`, cut into `parts` equal windows; the quietest window's figures.

    The machine may be shared: the window in which other processes and the hypervisor took the
    least CPU is reported, with every window's summary under "parts".
    """
    marks = [await _mark(sess)]
    for _ in range(parts):
        await asyncio.sleep(seconds / parts)
        marks.append(await _mark(sess))
    windows = [figures(a, b) for a, b in itertools.pairwise(marks)]
    chosen = min(range(parts), key=lambda i: windows[i]["other_cpu_pct"] + windows[i]["steal_cpu_pct"])
    if parts == 1:
        return windows[0]
    summary = [{key: w[key] for key in PART_SUMMARY} for w in windows]
    return {**windows[chosen], "chosen_part": chosen, "parts": summary}


def figures(a: Mark, b: Mark) -> Json:
    """Client-side counts, server and client CPU, server memory between two marks."""
    m0, m1, srv0, srv1 = a.load, b.load, a.server, b.server
    elapsed = m1["t"] - m0["t"]
    delivered = m1["frames"] - m0["frames"]
    server_cpu = srv1.cpu_s - srv0.cpu_s
    return {
        "window_s": round(elapsed, 3),
        "delivered": delivered,
        "delivered_per_s": round(delivered / elapsed),
        "server_cpu_us_per_msg": round(server_cpu * 1e6 / delivered, 2) if delivered else None,
        "server_cpu_pct": round(100 * server_cpu / elapsed, 1),
        "client_cpu_pct": round(100 * (b.client.cpu_s - a.client.cpu_s) / elapsed, 1),
        "other_cpu_pct": _others_cpu_pct(a, b, elapsed),
        "steal_cpu_pct": round(100 * (b.machine.steal_s - a.machine.steal_s) / elapsed, 1),
        "server_rss_mb": round(srv1.rss_kb / 1024, 1),
        "server_rss_growth_mb": round((srv1.rss_kb - srv0.rss_kb) / 1024, 1),
        "server_peak_rss_mb": round(srv1.hwm_kb / 1024, 1),
        "latency": m1["latency"],
        "latency_in_read": m1.get("latency_in_read"),
        "latency_in_kernel": m1.get("latency_in_kernel"),
        "dispatch_in_out": _dispatch(a.metrics, b.metrics),
        "connected": m1["connected"],
        "receiving": m1["receiving"],
        "min_client_frames": m1["min_client_frames"],
        "max_client_frames": m1["max_client_frames"],
        "errors": m1["errors"],
        "disconnects": m1["disconnects"],
        "resets": m1["resets"],
        "close_codes": m1["close_codes"],
        "metrics_delta": _delta(a.metrics, b.metrics),
        "stalled_client": m1["stalled"],
    }


DISPATCH = "restream_dispatch_latency_seconds"


def _dispatch(before: dict[str, float] | None, after: dict[str, float] | None) -> Json | None:
    """restream's own ts_library_in -> ts_library_out over the window, from its histogram (µs,
    a bucket's upper bound)."""
    if before is None or after is None:
        return None
    quantiles = {f"p{round(q * 100)}_us": histogram_quantile(before, after, DISPATCH, q) for q in (0.5, 0.99)}
    return {key: None if v is None or v == float("inf") else round(v * 1e6) for key, v in quantiles.items()}


def _delta(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, float] | None:
    if before is None or after is None:
        return None
    return {name: after.get(name, 0.0) - before.get(name, 0.0) for name in EVICTION_METRICS}


def _connect_info(sess: Session) -> Json:
    return {key: sess.load.ready[key] for key in ("connected", "errors", "error_samples", "connect_s")}


async def throughput(spec: ServerSpec, s: Settings, clients: int) -> Json:
    async with session(spec, s, clients, s.saturate_rate, f"tput{clients}") as sess:
        found = await measure(sess, s.window_s, s.parts)
        return {"clients": clients, "rate_per_symbol": s.saturate_rate, "connect": _connect_info(sess), **found}


def rate_for(offered_per_s: float, clients: int, symbols: int) -> float:
    """Per-symbol feed rate that offers `offered_per_s` deliveries/s to `clients` clients."""
    return round(offered_per_s / (clients * symbols), 2)


async def latency(spec: ServerSpec, s: Settings, offered_per_s: float) -> Json:
    clients = s.latency_clients
    rate = rate_for(offered_per_s, clients, len(s.symbols))
    async with session(spec, s, clients, rate, "latency") as sess:
        found = await measure(sess, s.window_s, s.parts)
        return {"clients": clients, "offered_per_s": round(offered_per_s), "rate_per_symbol": rate, **found}


def stall_memory(s: Settings) -> Json:
    """restream's memory settings for the slow-consumer run."""
    return {"budget_bytes": 64 * 1024 * 1024, "client_queue": 256, "stall_timeout_s": s.stall_timeout_s}


async def slow_consumer(spec: ServerSpec, s: Settings) -> Json:
    """One of `stall_clients` stops reading for `stall_s`; the others' throughput vs. before."""
    memory = stall_memory(s) if spec.has_metrics else None
    async with session(spec, s, s.stall_clients, s.saturate_rate, "slow", stall=True, memory=memory) as sess:
        before = await measure(sess, s.window_s)
        await sess.load.command("stall")
        during = await measure(sess, s.stall_s)
        await sess.load.command("resume")
        fate = await sess.load.command("wait_stalled", reply_timeout=s.drain_wait_s + 10, timeout=s.drain_wait_s)
        after = sess.server.sample()
    ratio = during["delivered_per_s"] / before["delivered_per_s"] if before["delivered_per_s"] else None
    return {
        "clients": s.stall_clients,
        "stall_s": s.stall_s,
        "rate_per_symbol": s.saturate_rate,
        "memory_config": memory,
        "others_ratio": round(ratio, 3) if ratio is not None else None,
        "no_stall": before,
        "stall": during,
        "rss_before_stall_mb": before["server_rss_mb"],
        "rss_end_of_stall_mb": during["server_rss_mb"],
        "rss_growth_mb": round(during["server_rss_mb"] - before["server_rss_mb"], 1),
        "peak_rss_mb": round(after.hwm_kb / 1024, 1),
        "stalled_client_after_resume": fate,
        "backlog_read_after_resume_kib": _backlog_kib(during["stalled_client"], fate),
    }


def _backlog_kib(at_end_of_stall: Json | None, at_end: Json | None) -> int | None:
    """What the stalled client read after it resumed: the backlog that was held for it."""
    if not at_end_of_stall or not at_end:
        return None
    return int(at_end["bytes"] - at_end_of_stall["bytes"]) // 1024
