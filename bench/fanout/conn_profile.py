"""Where restream's memory per connection goes: tracemalloc snapshots of the server before
and after N idle connections, diffed by the line that allocated.

    python bench/fanout/conn_profile.py [--connections 2000] [--top 25] [--python PATH]

The server runs under bench/fanout/traced_server.py (restream with tracemalloc on, a snapshot
per SIGUSR1); the clients come from bench/fanout/client.py `--idle` (upgraded, nothing
subscribed). Prints the allocation sites that grew, bytes per connection and count per
connection, and the total; tracemalloc sees Python's allocations only (not the kernel's
socket buffers, nor what the allocator keeps), so the total is below RSS's growth.
`--python` runs another build's server (a baseline worktree's .venv/bin/python).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import tracemalloc
from pathlib import Path

import procs
from run import SYMBOLS

SETTLE_S = 2.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="restream's memory per idle connection, by allocation site")
    p.add_argument("--connections", type=int, default=2000)
    p.add_argument("--top", type=int, default=25, help="allocation sites to print")
    p.add_argument("--frames", type=int, default=3, help="traceback frames to print per site")
    p.add_argument("--python", default=sys.executable, help="the interpreter (build) that runs the server")
    p.add_argument(
        "--subscribed", action="store_true", help="clients subscribed to 10 symbols (1 quote/s each) instead of idle"
    )
    return p.parse_args()


async def snapshot(server: procs.Server, where: Path, n: int) -> tracemalloc.Snapshot:
    """Ask the traced server for its snapshot number `n` and load it."""
    server.proc.send_signal(signal.SIGUSR1)
    for _ in range(1200):  # a snapshot of thousands of connections takes seconds to dump
        if (where / f"{n}.done").exists():
            return tracemalloc.Snapshot.load(str(where / f"{n}.snapshot"))
        await asyncio.sleep(0.1)
    raise TimeoutError("the traced server wrote no snapshot in 120 s")


async def profile(args: argparse.Namespace, where: Path) -> list[tracemalloc.StatisticDiff]:
    command = (str(procs.HERE / "traced_server.py"), str(where))
    spec = procs.ServerSpec("traced", command, has_metrics=True, ws_path=procs.RESTREAM.ws_path, python=args.python)
    config = spec.write_config(where / "config.json5", None)
    symbols = SYMBOLS if args.subscribed else SYMBOLS[:1]
    async with procs.running_server(spec, symbols, 1.0, config, where / "server.log") as server:
        await asyncio.sleep(SETTLE_S)
        before = await snapshot(server, where, 0)
        async with procs.running_load(
            server.port,
            spec.ws_path,
            args.connections,
            symbols,
            stall_client=False,
            batch_ms=0,
            log=where / "client.log",
            connect_timeout=300,
            idle=not args.subscribed,
        ) as load:
            connected = load.ready["connected"]
            await asyncio.sleep(SETTLE_S)
            after = await snapshot(server, where, 1)
    if connected != args.connections:
        print(f"only {connected} of {args.connections} connected", file=sys.stderr)
    return after.compare_to(before, "traceback")


def by_site(diffs: list[tracemalloc.StatisticDiff], frames: int) -> list[tuple[str, int, int]]:
    """(site, bytes grown, blocks grown), the site being the `frames` most recent frames of
    the allocation's traceback, biggest growth first."""
    sites: dict[str, list[int]] = {}
    for d in diffs:
        recent = list(d.traceback)[::-1][:frames]  # tracemalloc lists the oldest frame first
        site = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in recent)
        grown = sites.setdefault(site, [0, 0])
        grown[0] += d.size_diff
        grown[1] += d.count_diff
    return sorted(((site, size, count) for site, (size, count) in sites.items()), key=lambda s: -s[1])


def main() -> None:
    args = parse_args()
    procs.raise_fd_limit(2 * args.connections + 4096)
    with tempfile.TemporaryDirectory(prefix="conn_profile-") as tmp:
        diffs = asyncio.run(profile(args, Path(tmp)))
    n = args.connections
    total = sum(d.size_diff for d in diffs)
    kind = "subscribed" if args.subscribed else "idle"
    print(f"Python allocations grew {total / n:,.0f} B per connection ({n:,} {kind} connections)\n")
    for site, size, count in by_site(diffs, args.frames)[: args.top]:
        print(f"{size / n:8,.0f} B  {count / n:6.2f}/conn  {site}")


if __name__ == "__main__":
    main()
