"""Replay throughput: a recorded session at --speed 0 into one client (issue 15's target).

    uv run --all-packages python bench/replay/run.py [--dir DIR] [--symbols 10] [--rate 10] [--hours 6.5] [--plain]

Generates the session (bench/replay/generate.py; kept in DIR for the next run), starts
`restream --feed replay --replay-file FILE --speed 0` pinned to CPU 0, and one raw WebSocket
client (bench/fanout/rawws.py, counting frames without parsing them) in this process pinned to
CPU 1, subscribed to every symbol. Delivered quotes/s is the quotes the client received over the
time from its first quote to its last; the server's /status must agree that every line was
sent and none was bad. Target: >= 200,000 quotes/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fanout"))
sys.path.insert(0, str(HERE))

import procfs  # noqa: E402
import rawws  # noqa: E402
from generate import SYMBOLS, generate  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
# Frames that are not quotes: "subscribed", and the status frames of the replay's start and end.
CONTROL_FRAMES = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
        body: dict[str, object] = json.load(response)
        return body


def start_server(port: int, path: Path, log: Path, sndbuf: int) -> subprocess.Popen[bytes]:
    config = log.with_suffix(".json5")
    config.write_text(json.dumps({"memory": {"sndbuf_bytes": sndbuf, "high_water_bytes": sndbuf}}))
    command = [sys.executable, "-m", "servers.restream", "--config", str(config), "--port", str(port)]
    command += ["--feed", "replay", "--replay-file", str(path), "--speed", "0", "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_PROXY": "*"},
            preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CPU}),
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            status(port)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"restream did not start:\n{log.read_text()}")


async def receive(port: int, pid: int, symbols: list[str], expected: int) -> tuple[int, float, float]:
    """(quotes received, seconds from the first to the last, the server's CPU seconds meanwhile)."""
    stats = rawws.Stats(sample_every=1 << 30)
    subscribe = json.dumps({"op": "subscribe", "symbols": symbols}).encode()
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: rawws.WsClient(stats, "127.0.0.1", port, "/ws", subscribe), "127.0.0.1", port
    )
    await client.ready
    first = last = 0.0
    cpu_first = cpu_last = 0.0
    seen = 0
    idle_since = time.monotonic()
    while True:
        await asyncio.sleep(0.002)
        now = time.monotonic()
        if client.frames != seen:
            if not first and client.frames > CONTROL_FRAMES - 1:
                first, cpu_first = now, procfs.sample(pid).cpu_s
            seen, last, idle_since = client.frames, now, now
            cpu_last = procfs.sample(pid).cpu_s
        if seen >= expected + CONTROL_FRAMES or now - idle_since > 5:
            break
    client.close()
    return seen - CONTROL_FRAMES, last - first, cpu_last - cpu_first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "rsdev-bench-replay")
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--rate", type=int, default=10)
    parser.add_argument("--hours", type=float, default=6.5)
    parser.add_argument(
        "--plain", action="store_true", help="replay the day uncompressed (a day server_log still has open)"
    )
    parser.add_argument("--sndbuf", type=int, default=1 << 20, help="memory.sndbuf_bytes and high_water_bytes")
    args = parser.parse_args()
    path, lines = generate(args.dir, args.symbols, args.rate, args.hours)
    if args.plain:
        plain = args.dir / "plain" / path.name.removesuffix(".gz")
        if not plain.exists():
            plain.parent.mkdir(exist_ok=True)
            with gzip.open(path, "rb") as src, plain.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        path = plain
    symbols = [SYMBOLS[i] if i < len(SYMBOLS) else f"SYM{i}" for i in range(args.symbols)]
    print(f"session: {path} ({lines:,} lines, {path.stat().st_size / 1e6:.1f} MB)")
    load_before = os.getloadavg()[0]
    os.sched_setaffinity(0, {CLIENT_CPU})
    port = free_port()
    proc = start_server(port, path, args.dir / "restream.log", args.sndbuf)
    try:
        received, seconds, cpu_s = asyncio.run(receive(port, proc.pid, symbols, lines))
        upstream = status(port)["upstream"]
        assert isinstance(upstream, dict)
    finally:
        proc.terminate()
        proc.wait(10)
    rate = received / seconds if seconds else 0.0
    print(f"received {received:,} quotes in {seconds:.2f} s: {rate:,.0f} quotes/s (target >= 200,000)")
    per_quote = cpu_s / received * 1e6 if received else 0.0
    print(
        f"server CPU {cpu_s:.2f} s ({cpu_s / seconds * 100:.0f} % of its core): {per_quote:.2f} µs a quote, "
        f"{1e6 / per_quote if per_quote else 0:,.0f} quotes/s on a core of its own; load average before: "
        f"{load_before:.2f}"
    )
    print(
        f"server: lines {upstream['lines']:,}, sent {upstream['sent']:,}, bad {upstream['bad_lines']}, "
        f"state {upstream['state']} ({upstream['reason']})"
    )
    complete = received == lines == upstream["sent"] and not upstream["bad_lines"] and upstream["state"] == "idle"
    print("every quote delivered once: " + ("yes" if complete else "NO"))
    sys.exit(0 if complete and rate >= 200_000 else 1)


if __name__ == "__main__":
    main()
