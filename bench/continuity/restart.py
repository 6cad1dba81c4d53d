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

With --pmdaemon, the same client reads restream run by a real pmdaemon (its own supervisord in
a temp state dir), each --rounds times:
- pmdaemon-handover: `pmdaemon restart restream` of a `handover: true` service;
- pmdaemon-stop-start: `pmdaemon restart restream` of the same service without `handover`
  (the same-run baseline: stop, then start);
- pmdaemon-kill-9: SIGKILL of the pid `status` shows; supervisord starts it again. Here the
  figure is how soon the client is receiving again after the kill (`back after`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from lib_common.client import Client
from lib_common.core.backoff import Backoff

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.processes import free_port  # noqa: E402

SYMBOLS = ["AAPL", "MSFT"]


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
    back_after_ms: float | None = None  # from the event to the first quote after it


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

    def back_after(self, since: float) -> float:
        """From `since` to the quote that ended the longest silence after it (a quote already on
        its way when the server died does not count as being back)."""
        times = [t for t in self.arrivals if t >= since - 1.0]
        gaps = [(b - a, b) for a, b in itertools.pairwise(times) if b > since]
        return max(gaps, default=(0.0, float("inf")))[1] - since


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


PMDAEMON = Path(sys.executable).with_name("pmdaemon")
PMDAEMON_WAYS = (
    "pmdaemon-handover",
    "pmdaemon-stop-start",
    "pmdaemon-kill-9",
    "pmdaemon-standby-restart",
    "pmdaemon-standby-kill-9",
)


def pmdaemon(state: Path, *args: str) -> str:
    result = subprocess.run([str(PMDAEMON), "--state-dir", str(state), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pmdaemon {' '.join(args)}: exit {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def serving_pid(state: Path) -> int:
    report = json.loads(pmdaemon(state, "status", "--json"))
    return int(next(s["pid"] for s in report["services"] if s["name"] == "restream"))


def standing_by(state: Path, timeout: float = 30.0) -> None:
    """Until both slots of restream run and have the lock file open (the standby waits on it)."""
    from pmdaemon import control
    from pmdaemon.layout import StateDir
    from pmdaemon.procfs import ProcFS

    lock, procfs, supervisor = state / "run" / "restream.lock", ProcFS(), control.client(StateDir(state))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p.pid for p in supervisor.processes() if p.name.startswith("restream@") and p.state == "RUNNING"]
        if len(pids) == 2 and all(procfs.holds_file(pid, lock) for pid in pids):
            return
        time.sleep(0.1)
    raise RuntimeError("the standby never waited on the lock")


async def pmdaemon_round(way: str, port: int, rate: float) -> Round:
    # Not under the run's temp dir: supervisord's socket path must stay short.
    root = Path(tempfile.mkdtemp(prefix="cont-", dir="/tmp"))
    service = {
        "name": "restream",
        "port": port,
        "command": [sys.executable, "-m", "servers.restream", "--port", "${port}", "--rate", str(rate)],
        "env": {"RSDEV__LISTEN__REUSE_PORT": "true"},
        "handover": way in ("pmdaemon-handover", "pmdaemon-standby-restart", "pmdaemon-standby-kill-9"),
        "standby": way.startswith("pmdaemon-standby"),
        "start_secs": 1,
    }
    (root / "services.json5").write_text(json.dumps({"watch": {"poll_s": 1}, "services": [service]}))
    state = root / "state"
    await asyncio.to_thread(pmdaemon, state, "start", str(root / "services.json5"))
    client = Client(f"ws://127.0.0.1:{port}/ws", SYMBOLS, backoff=Backoff(0.1, 1.0))
    try:
        async with client:
            reader = Reader(client)
            while len(reader.arrivals) < 10:  # restream serves (RUNNING may come before it listens)
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)
            if service["standby"]:  # the standby waits on the lock (its imports done) before the event
                await asyncio.to_thread(standing_by, state)
            if way.endswith("kill-9"):
                pid = await asyncio.to_thread(serving_pid, state)
                os.kill(pid, signal.SIGKILL)
                event = time.monotonic()
            else:
                event = time.monotonic()
                await asyncio.to_thread(pmdaemon, state, "restart", "restream")
            # Until the client is receiving again (a silence is only measured between quotes).
            done = time.monotonic()
            deadline = done + 30
            while reader.arrivals[-1] <= done:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{way}: no quote for 30 s after the event")
                await asyncio.sleep(0.05)
            await asyncio.sleep(2.0)
            reader.task.cancel()
        silence = round(reader.longest_silence(event) * 1000, 1)
        back = round(reader.back_after(event) * 1000, 1) if way.endswith("kill-9") else None
        return Round(way, silence, reader.bad, len(reader.arrivals), back)
    finally:
        await asyncio.to_thread(pmdaemon, state, "stop")
        shutil.rmtree(root, ignore_errors=True)


async def run(args: argparse.Namespace) -> list[Round]:
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            for way in args.ways or (PMDAEMON_WAYS if args.pmdaemon else ("handover", "stop-start", "kill-9")):
                if args.pmdaemon:
                    r = await pmdaemon_round(way, free_port(), args.rate)
                else:
                    r = await one_round(way, free_port(), Path(tmp), args.rate, n)
                back = "-" if r.back_after_ms is None else f"{r.back_after_ms:,.0f}"
                cells = [r.way, n + 1, f"{r.longest_silence_ms:,.0f}", back, r.duplicates_or_older, r.quotes]
                print("| " + " | ".join(map(str, cells)) + " |")
                rounds.append(r)
    return rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="quotes per second per symbol")
    parser.add_argument("--pmdaemon", action="store_true", help="restream under pmdaemon: restart and kill -9")
    parser.add_argument(
        "--ways", type=lambda text: text.split(","), help=f"only these, comma-separated ({', '.join(PMDAEMON_WAYS)})"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="default bench/results/continuity-restart[-pmdaemon].json"
    )
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.rate:g} quotes/s x {len(SYMBOLS)} symbols")
    print("| way | round | longest silence ms | back after ms | duplicates or older | quotes |")
    print("|---|---:|---:|---:|---:|---:|")
    rounds = asyncio.run(run(args))
    for way in sorted({r.way for r in rounds}, key=[r.way for r in rounds].index):
        silences = [r.longest_silence_ms for r in rounds if r.way == way]
        print(f"{way}: median longest silence {statistics.median(silences):,.0f} ms")
    out = args.out or Path(f"bench/results/continuity-restart{'-pmdaemon' if args.pmdaemon else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in rounds], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
