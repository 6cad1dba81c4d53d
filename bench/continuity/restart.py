"""What a client of restream feels across a restart: the SDK client's longest silence.

    uv run --all-packages python bench/continuity/restart.py [--rounds 3] [--rate 20]

Three ways a restream process is replaced on its port, each --rounds times, one run:
- handover: a successor starts beside it (`listen.reuse_port`), then SIGHUP: the old process
  closes its clients with 1012 and the client comes back at once (docs/restarts.md);
- stop-start: SIGTERM (1001), then a new process is started on the port;
- kill-9: SIGKILL, then a new process is started on the port.
A `lib_common.client.Client` subscribed to 2 symbols at --rate quotes/s each reads the whole
time. Per round: the longest silence between two quotes at the client around the restart, the
quotes seen twice or out of order (both must be 0), and the process's startup time for the
ways that wait for one. Prints a markdown table; JSON to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from lib_common.client import Client
from lib_common.core.backoff import Backoff

SYMBOLS = ["AAPL", "MSFT"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, config: Path, log: Path, rate: float) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "servers.restream",
                "--port",
                str(port),
                "--config",
                str(config),
                "--rate",
                str(rate),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_started(log: Path, before: int, timeout: float = 20.0) -> None:
    """Until the log gains a startup line after byte `before` (health may answer from another
    process on the same port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"Application startup complete" in log.read_bytes()[before:]:
            return
        time.sleep(0.02)
    raise RuntimeError(f"restream did not start: {log.read_text()[-2000:]}")


@dataclass
class Round:
    way: str
    longest_silence_ms: float
    duplicates_or_older: int
    quotes: int


class Reader:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.arrivals: list[float] = []
        self.last: dict[str, tuple[int, float]] = {}
        self.bad = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for quote in self.client:
            key = (int(quote["ts_upstream"]), float(quote["price"]))
            last = self.last.get(quote["symbol"])
            if last is not None and key <= last:
                self.bad += 1
            self.last[quote["symbol"]] = key
            self.arrivals.append(time.monotonic())

    def longest_silence(self, since: float) -> float:
        times = [t for t in self.arrivals if t >= since - 1.0]
        return max((b - a for a, b in itertools.pairwise(times)), default=float("inf"))


async def one_round(way: str, port: int, tmp: Path, rate: float, n: int) -> Round:
    config = tmp / "reuse.json5"
    config.write_text(json.dumps({"listen": {"reuse_port": way == "handover"}}))
    log = tmp / f"{way}-{n}.log"
    log.write_bytes(b"")
    old = start(port, config, log, rate)
    await asyncio.to_thread(wait_started, log, 0)
    client = Client(f"ws://127.0.0.1:{port}/ws", SYMBOLS, backoff=Backoff(0.1, 1.0))
    new: subprocess.Popen[bytes] | None = None
    try:
        async with client:
            reader = Reader(client)
            await asyncio.sleep(2.0)
            event = time.monotonic()
            if way == "handover":
                mark = log.stat().st_size
                new = start(port, config, log, rate)
                await asyncio.to_thread(wait_started, log, mark)
                event = time.monotonic()
                old.send_signal(signal.SIGHUP)
            else:
                old.send_signal(signal.SIGTERM if way == "stop-start" else signal.SIGKILL)
                await asyncio.to_thread(old.wait, 30)
                mark = log.stat().st_size
                new = start(port, config, log, rate)
                await asyncio.to_thread(wait_started, log, mark)
            await asyncio.sleep(3.0)
            reader.task.cancel()
        return Round(way, round(reader.longest_silence(event) * 1000, 1), reader.bad, len(reader.arrivals))
    finally:
        for proc in (old, new):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)


async def run(args: argparse.Namespace) -> list[Round]:
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            for way in ("handover", "stop-start", "kill-9"):
                r = await one_round(way, free_port(), Path(tmp), args.rate, n)
                print(f"| {r.way} | {n + 1} | {r.longest_silence_ms:,.0f} | {r.duplicates_or_older} | {r.quotes} |")
                rounds.append(r)
    return rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="quotes per second per symbol")
    parser.add_argument("--out", type=Path, default=Path("bench/results/continuity-restart.json"))
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.rate:g} quotes/s x {len(SYMBOLS)} symbols")
    print("| way | round | longest silence ms | duplicates or older | quotes |")
    print("|---|---:|---:|---:|---:|")
    rounds = asyncio.run(run(args))
    for way in ("handover", "stop-start", "kill-9"):
        silences = [r.longest_silence_ms for r in rounds if r.way == way]
        print(f"{way}: median longest silence {statistics.median(silences):,.0f} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(r) for r in rounds], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
