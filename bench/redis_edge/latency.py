"""The Redis bench's end-to-end latency, measured as bench/fanout measures it (issue 16).

One run per path (own, edge, redis2ws) at `--latency-rate`, each with the fan-out bench's load
process reading with kernel receipt stamps (`--kernel-stamps`, SO_TIMESTAMPNS), so the same
frames give every figure:

- *tick to kernel receipt*: from the quote's `ts_library_in` (stamped when the synthetic feed
  makes the tick: by `own`'s restream, or by the **ingest** node, carried through Redis
  unchanged) to the client's kernel receiving the bytes. The fair end-to-end figure: every
  server's own queueing counts, and the load process's read order does not.
- *tick to the load process's read*: the same, to when the one load process got to the socket
  (it reads the clients one after another, so the last one of a tick pays for the reads before).
- stage split: *in to out* is the serving restream's `latency_us` from /status (its dispatch
  histogram, over its life: upper bucket bounds), i.e. for the edge ingest receipt -> edge
  dispatch (the ingest's tick, Redis, the edge's decode); *out to kernel receipt* is from the
  frame's `ts_library_out` (the edge's dispatch; redis2ws forwards the ingest's frame as is, so
  there it spans Redis too).

`own` at the same rate is the baseline: edge / own says what the trip through Redis costs.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

Json = dict[str, Any]
# run.scenario(kind, args, url, rate, logs, stamp, kernel_stamps=...)
Scenario = Callable[..., Awaitable[Json]]
KINDS = ("own", "edge", "redis2ws")


async def fair_latency(scenario: Scenario, args: argparse.Namespace, url: str, logs: Path) -> Json:
    """Each path at the latency rate, kernel stamps on; the figures by path under `latency`."""
    found = {}
    for kind in KINDS:
        found[kind] = await scenario(kind, args, url, args.latency_rate, logs, "ts_library_out", kernel_stamps=True)
    return {"latency": found, "latency_ratios": ratios(found)}


def _p(section: Json | None, key: str) -> int | None:
    return None if not section else section.get(key)


def ratios(found: Json) -> Json:
    """edge / own and redis2ws / own of the tick-to-kernel-receipt percentiles."""
    own = found["own"].get("latency_in_kernel_us")
    out: Json = {}
    for kind in ("edge", "redis2ws"):
        mine = found[kind].get("latency_in_kernel_us")
        for key in ("p50_us", "p99_us"):
            a, b = _p(mine, key), _p(own, key)
            out[f"{kind}/own {key[:3]}"] = round(a / b, 2) if a is not None and b else None
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f}"


def _pair(section: Json | None) -> str:
    return f"{_ms(_p(section, 'p50_us'))} / {_ms(_p(section, 'p99_us'))}"


def _in_out(status: Json) -> str:
    lat = status.get("latency_us") or {}
    return f"≤ {_ms(lat.get('p50_le'))} / ≤ {_ms(lat.get('p99_le'))}" if lat else "-"


def rows(results: Json, args: argparse.Namespace) -> Iterator[str]:
    """The latency rows of the bench's markdown table."""
    found = results["latency"]
    at = f"{args.latency_rate:g}/s per symbol, C={args.clients}"
    figures: list[tuple[str, Callable[[Json], str]]] = [
        ("tick (ts_library_in) to kernel receipt, p50 / p99 ms", lambda r: _pair(r.get("latency_in_kernel_us"))),
        ("tick to the load process's read, p50 / p99 ms", lambda r: _pair(r.get("latency_in_read_us"))),
        ("serving restream's in to out (its histogram), p50 / p99 ms", lambda r: _in_out(r["server_status"])),
        ("ts_library_out to kernel receipt, p50 / p99 ms", lambda r: _pair(r.get("latency_us"))),
        ("frames sampled (tick to kernel)", lambda r: str(_p(r.get("latency_in_kernel_us"), "n"))),
    ]
    for label, get in figures:
        cells = " · ".join(f"{kind} {get(found[kind])}" for kind in KINDS)
        yield f"| {label} ({at}) | {cells} |"
    for name, value in results["latency_ratios"].items():
        yield f"| tick to kernel receipt, ratio {name} | {value} |"
