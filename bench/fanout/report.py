"""Markdown table of a run: one row per figure, restream and baseline side by side."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Json = dict[str, Any]
Getter = Callable[[Json], Any]
SERVERS = ("restream", "baseline")


def _get(*path: str) -> Getter:
    def get(d: Json) -> Any:
        value: Any = d
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    return get


def _conn(d: Json) -> str:
    return f"{d['connected']}/{d['clients']} conn, {d['receiving']} recv"


def _errors(d: Json) -> str:
    return f"{d['errors']} err, {d['disconnects']} disc"


def _fate(d: Json) -> str | None:
    f = d.get("stalled_client_after_resume")
    if not f:
        return None
    read = f"{f['frames']:,} frames / {f['bytes'] // 1024:,} KiB read in all"
    if not f["ended"]:
        return f"still open ({read})"
    how = f"close frame {f['close_code']}" if f["close_code"] else f["lost_error"] or "EOF without close frame"
    return f"ended: {how} ({read})"


# (label, getter, unit format); numeric getters also get a restream/baseline ratio.
WINDOW_ROWS: list[tuple[str, Getter, str]] = [
    ("delivered msg/s", _get("delivered_per_s"), "{:,.0f}"),
    ("server CPU µs/msg", _get("server_cpu_us_per_msg"), "{:.2f}"),
    ("server CPU %", _get("server_cpu_pct"), "{:.0f}"),
    ("client-process CPU %", _get("client_cpu_pct"), "{:.0f}"),
    ("latency p50 ms", lambda d: _ms(d, "p50_us"), "{:.2f}"),
    ("latency p99 ms", lambda d: _ms(d, "p99_us"), "{:.2f}"),
    ("server peak RSS MB", _get("server_peak_rss_mb"), "{:.1f}"),
    ("clients", _conn, "{}"),
    ("client errors", _errors, "{}"),
]


def _lat(section: str, key: str) -> Getter:
    def get(d: Json) -> float | None:
        value = (d.get(section) or {}).get(key)
        return value / 1000 if value is not None else None

    return get


# The fair comparison (issue 16): from the tick's receipt (ts_library_in, stamped by the same
# synthetic feed in both servers) to the client's, so each server's own queueing counts; at
# the kernel's receipt (SO_TIMESTAMPNS) too, since one load process reading 100 sockets in
# turn charges the later ones for the reads before them.
FAIR_ROWS: list[tuple[str, Getter, str]] = [
    ("tick to kernel receipt p50 ms", _lat("latency_in_kernel", "p50_us"), "{:.2f}"),
    ("tick to kernel receipt p99 ms", _lat("latency_in_kernel", "p99_us"), "{:.2f}"),
    ("tick to the load process's read p50 ms", _lat("latency_in_read", "p50_us"), "{:.2f}"),
    ("tick to the load process's read p99 ms", _lat("latency_in_read", "p99_us"), "{:.2f}"),
    ("restream's in to out p50 ms (its histogram's bucket)", _lat("dispatch_in_out", "p50_us"), "{:.3f}"),
    ("restream's in to out p99 ms (its histogram's bucket)", _lat("dispatch_in_out", "p99_us"), "{:.3f}"),
]

LATENCY_ROWS: list[tuple[str, Getter, str]] = [
    ("offered msg/s", _get("offered_per_s"), "{:,.0f}"),
    *FAIR_ROWS,
    *[(label.replace("latency", "ts_library_out to kernel receipt"), get, fmt) for label, get, fmt in WINDOW_ROWS],
]

SLOW_ROWS: list[tuple[str, Getter, str]] = [
    ("others' msg/s, no stall", _get("no_stall", "delivered_per_s"), "{:,.0f}"),
    ("others' msg/s, during stall", _get("stall", "delivered_per_s"), "{:,.0f}"),
    ("others' stall/no-stall ratio", _get("others_ratio"), "{:.3f}"),
    ("others' p99 during stall ms", lambda d: _ms(d["stall"], "p99_us"), "{:.2f}"),
    ("server RSS before stall MB", _get("rss_before_stall_mb"), "{:.1f}"),
    ("server RSS end of stall MB", _get("rss_end_of_stall_mb"), "{:.1f}"),
    ("server RSS growth MB", _get("rss_growth_mb"), "{:.1f}"),
    ("server peak RSS MB", _get("peak_rss_mb"), "{:.1f}"),
    ("frames conflated (stall window)", _get("stall", "metrics_delta", "restream_frames_conflated_total"), "{:,.0f}"),
    ("clients evicted (stall window)", _get("stall", "metrics_delta", "restream_clients_evicted_total"), "{:,.0f}"),
    ("stalled client's backlog read after resume KiB", _get("backlog_read_after_resume_kib"), "{:,.0f}"),
    ("others' disconnects", lambda d: d["stall"]["disconnects"], "{}"),
    ("stalled client after resume", _fate, "{}"),
]


def _ms(d: Json, key: str) -> float | None:
    value = d.get("latency", {}).get(key)
    return value / 1000 if value is not None else None


def _fmt(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    return fmt.format(value) if isinstance(value, int | float) else str(value)


def _ratio(a: Any, b: Any) -> str:
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return f"{a / b:.2f}" if numeric and b else ""


def _rows(
    scenario: str, by_server: dict[str, Json], spec: list[tuple[str, Getter, str]], servers: tuple[str, ...] = SERVERS
) -> Iterator[str]:
    for label, get, fmt in spec:
        values = [get(by_server[s]) if s in by_server else None for s in servers]
        cells = [_fmt(v, fmt) for v in values]
        yield f"| {scenario} | {label} | {cells[0]} | {cells[1]} | {_ratio(*values)} |"


def _per_process(d: Json) -> str:
    return " + ".join(f"{c['connected']:,} in {c['connect_s']:.0f} s" for c in d["connect"])


def _crowd_latency(d: Json) -> str:
    lat = d["latency_in_kernel"]
    return " / ".join("-" if lat.get(k) is None else f"{lat[k] / 1000:.1f}" for k in ("p50_us", "p99_us"))


CROWD_ROWS: list[tuple[str, Getter, str]] = [
    (
        "clients connected / receiving / asked",
        lambda d: f"{d['connected']:,} / {d['receiving']:,} / {d['clients']:,}",
        "{}",
    ),
    (
        "frames a client got in the window, fewest / most",
        lambda d: f"{d['min_client_frames']} / {d['max_client_frames']}",
        "{}",
    ),
    ("client errors", _errors, "{}"),
    ("connected per load process", _per_process, "{}"),
    ("delivered msg/s", _get("delivered_per_s"), "{:,.0f}"),
    ("server CPU %", _get("server_cpu_pct"), "{:.0f}"),
    ("server CPU µs/msg", _get("server_cpu_us_per_msg"), "{:.2f}"),
    ("server RSS MB", _get("server_rss_mb"), "{:.1f}"),
    ("server peak RSS MB", _get("server_peak_rss_mb"), "{:.1f}"),
    ("tick to kernel receipt p50 / p99 ms (worse load process)", _crowd_latency, "{}"),
]

IDLE_ROWS: list[tuple[str, Getter, str]] = [
    ("idle connections", lambda d: " / ".join(f"{p['connections']:,}" for p in d["points"]), "{}"),
    ("server RSS MB at each", lambda d: " / ".join(f"{p['rss_kb'] / 1024:.1f}" for p in d["points"]), "{}"),
    (
        "KiB per connection, each step",
        lambda d: " / ".join(_fmt(v, "{:.1f}") for v in d["per_connection_kib"][:-1]),
        "{}",
    ),
    ("KiB per connection, none to all", lambda d: d["per_connection_kib"][-1], "{:.2f}"),
]


def crowd_markdown(results: Json) -> str:
    """The crowd and idle-memory table: a column per server that ran them (restream, and
    restream-base for the build it is compared with), the ratio of the first two."""
    runs = [results.get("crowd", {}), results.get("idle_memory", {})]
    servers = tuple(dict.fromkeys(name for r in runs for name in r))
    if not servers:
        return ""
    servers = (*servers, "")[:2]
    lines = [f"| scenario | figure | {servers[0]} | {servers[1] or '-'} | ratio |", "|---|---|---:|---:|---:|"]
    if results.get("crowd"):
        first = next(iter(results["crowd"].values()))
        lines += _rows(f"crowd C={first['clients']:,}", results["crowd"], CROWD_ROWS, servers)
    if results.get("idle_memory"):
        lines += _rows("idle connections", results["idle_memory"], IDLE_ROWS, servers)
    return "\n".join(lines)


def markdown(results: Json) -> str:
    lines = ["| scenario | figure | restream | baseline | restream/baseline |", "|---|---|---:|---:|---:|"]
    tput: dict[str, dict[str, Json]] = results.get("throughput", {})
    for clients in sorted({c for runs in tput.values() for c in runs}, key=int):
        by_server = {s: runs[clients] for s, runs in tput.items() if clients in runs}
        lines += _rows(f"saturation C={clients}", by_server, WINDOW_ROWS)
    if results.get("latency"):
        lines += _rows("half load C=100", results["latency"], LATENCY_ROWS)
    if results.get("low_load"):
        lines += _rows("low load C=100", results["low_load"], LATENCY_ROWS)
    if results.get("slow_consumer"):
        lines += _rows("slow consumer", results["slow_consumer"], SLOW_ROWS)
    tables = ["\n".join(lines)] if len(lines) > 2 else []
    crowd = crowd_markdown(results)
    return "\n\n".join(tables + ([crowd] if crowd else []))
