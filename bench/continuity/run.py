"""Continuity across a Redis outage: quotes missing or doubled in PostgreSQL and server_log.

    uv run --all-packages python bench/continuity/run.py [--outage-s 60] [--rate 1000] [--buffer 10000]

One run, real processes: a private `redis-server` (its own port and directory, append-only
file fsynced on every write, so what it acknowledged survives its restart; the machine's Redis
is never touched), restream publishing a synthetic feed of `--symbols` symbols at `--rate`
quotes/s in all with a memory buffer of `--buffer` frames and a spool, server_sql into a fresh
table of the machine's PostgreSQL, and server_log into a temporary directory. A WebSocket
client records every quote restream sends it. After `--warmup-s`, Redis is stopped (SIGTERM)
for `--outage-s`, started again, and the run goes on for `--after-s`; then the client stops
and the consumers are given time to catch up. Missing: quotes the client got that are not in
the table (or the files); doubled: quotes that are there more than once. Prints a markdown
table, writes JSON to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.processes import free_port, wait_healthy  # noqa: E402

Key = tuple[str, int, int]


class Proc:
    def __init__(self, name: str, args: list[str], log: Path, port: int | None = None) -> None:
        self.name, self.port, self.log = name, port, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_PROXY": "*"}
            )

    def get(self, path: str) -> Any:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5).json()

    def wait_healthy(self, timeout: float = 30) -> None:
        problem = wait_healthy(self.proc, f"http://127.0.0.1:{self.port}/health", timeout)
        if problem is not None:
            raise SystemExit(f"{self.name} {problem}:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def server(module: str, root: Path, *args: str) -> Proc:
    port = free_port()
    name = module.rpartition(".")[2]
    proc = Proc(name, [sys.executable, "-m", module, "--port", str(port), *args], root / f"{name}.log", port)
    proc.wait_healthy()
    return proc


class Redis:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        args += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        self.proc = Proc("redis", args, self.dir / "redis.log")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


async def record(url: str, symbols: list[str], into: list[Key], stop: asyncio.Event) -> None:
    async with connect(url, max_queue=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "symbols": symbols}))
        while not stop.is_set():
            try:
                body = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                continue
            if body.get("type") == "quote":
                into.append((body["symbol"], body["ts_upstream"], body["ts_library_in"]))


def table_keys(dsn: str, table: str) -> list[Key]:
    with psycopg.connect(dsn, connect_timeout=3) as conn:
        rows = conn.execute(f"SELECT symbol, ts_upstream, ts_library_in FROM {table}").fetchall()
    return [(s, u, i) for s, u, i in rows]


def file_keys(directory: Path) -> list[Key]:
    keys: list[Key] = []
    for path in sorted(directory.glob("quotes-*.ndjson")):
        data = path.read_bytes()
        for line in data[: data.rfind(b"\n") + 1].splitlines():  # server_log may be mid-line: whole ones only
            body = json.loads(line)
            keys.append((body["symbol"], body["ts_upstream"], body["ts_library_in"]))
    return keys


def tally(sent: list[Key], stored: list[Key]) -> dict[str, int]:
    counts = Counter(stored)
    return {
        "rows": len(stored),
        "missing": sum(1 for k in set(sent) if counts[k] == 0),
        "doubled": sum(n - 1 for n in counts.values() if n > 1),
    }


async def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    symbols = [f"B{i:02d}" for i in range(args.symbols)]
    prefix, table = f"rsdev-continuity:{os.getpid()}:", f"continuity_{os.getpid()}"
    redis = Redis(root)
    redis.start()
    config = {
        "feed": {"kind": "synthetic", "symbols": symbols, "rate": args.rate / len(symbols)},
        "publish": {
            "redis_url": redis.url,
            "prefix": prefix,
            "buffer": args.buffer,
            "spool_dir": str(root / "spool"),
            "spool_max_bytes": args.spool_mb << 20,
        },
        "log_level": "info",
    }
    (root / "restream.json5").write_text(json.dumps(config))
    consumer = ["--redis-url", redis.url, "--prefix", prefix]
    procs = [server("servers.restream", root, "--config", str(root / "restream.json5"))]
    restream = procs[0]
    procs.append(server("servers.server_sql", root, *consumer, "--dsn", args.dsn, "--table", table))
    logs = root / "logs"
    procs.append(server("servers.server_log", root, *consumer, "--dir", str(logs)))
    sent: list[Key] = []
    stop = asyncio.Event()
    recorder = asyncio.create_task(record(f"ws://127.0.0.1:{restream.port}/ws", symbols, sent, stop))
    try:
        await asyncio.sleep(args.warmup_s)
        print(f"stopping redis for {args.outage_s:.0f} s", file=sys.stderr)
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(args.outage_s)
        during = restream.get("/status")["publish"]
        await asyncio.to_thread(redis.start)
        started = time.monotonic()
        while restream.get("/status")["publish"].get("spool", {}).get("bytes", 0):
            await asyncio.sleep(0.1)
        drained_s = time.monotonic() - started
        await asyncio.sleep(args.after_s)
        stop.set()
        await recorder
        expected = set(sent)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if expected <= set(table_keys(args.dsn, table)) and expected <= set(file_keys(logs)):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # anything a late redelivery would add
        publish = restream.get("/status")["publish"]
        result = {
            "rate": args.rate,
            "buffer": args.buffer,
            "outage_s": args.outage_s,
            "quotes_sent_to_client": len(sent),
            "distinct_sent": len(expected),
            "postgresql": tally(sent, table_keys(args.dsn, table)),
            "server_log": tally(sent, file_keys(logs)),
            "during_outage": {k: during[k] for k in ("buffered", "dropped")} | {"spooled": during["spool"]["appended"]},
            "spool_drained_s": round(drained_s, 1),
            "publish": {k: publish[k] for k in ("published", "resent", "dropped")}
            | {k: publish["spool"][k] for k in ("appended", "appended_bytes", "drained", "torn", "corrupt_bytes")},
            "load_average": os.getloadavg(),
        }
    finally:
        stop.set()
        for proc in reversed(procs):
            proc.stop()
        redis.stop()
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="quotes/s in all")
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--buffer", type=int, default=10_000, help="publish.buffer (frames)")
    parser.add_argument("--spool-mb", type=int, default=256, help="publish.spool_max_bytes, MiB")
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--warmup-s", type=float, default=5.0)
    parser.add_argument("--after-s", type=float, default=10.0)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    parser.add_argument("--out", type=Path, default=Path("bench/results/continuity.json"))
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is needed (a private one is started on a free port)")
    root = Path(tempfile.mkdtemp(prefix="rsdev-continuity-"))
    try:
        result = asyncio.run(run(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    p, s = result["postgresql"], result["server_log"]
    columns = ["outage", "rate", "buffer", "quotes to the client", "PostgreSQL missing / doubled"]
    print("| " + " | ".join([*columns, "server_log missing / doubled"]) + " |")
    print("|---" * (len(columns) + 1) + "|")
    print(
        f"| {args.outage_s:.0f} s | {args.rate:.0f}/s | {args.buffer} | {result['distinct_sent']} "
        f"| {p['missing']} / {p['doubled']} | {s['missing']} / {s['doubled']} |"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
