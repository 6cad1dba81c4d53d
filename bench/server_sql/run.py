"""server_sql throughput: sustained rows/s from a pre-filled stream vs. a naive writer.

    uv run --all-packages python bench/server_sql/run.py [--entries 200000] [--naive 5000]

One run: fill a fresh stream with N quotes (XADD, as restream publishes them), start
`python -m servers.server_sql` on it with an empty table, and time from its first committed
row to its last (rows/s, read from /status every 0.2 s). Then a naive writer moves a smaller
slice of the same stream into another table the obvious way: XRANGE, and for each quote one
INSERT and one COMMIT. Both write to the same PostgreSQL (default: the machine's, database
`test`) and read the same Redis. Prints a markdown table, writes JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import redis

QUOTE_KEYS = ("symbol", "price", "change", "change_percent", "day_volume", "market_hours", "currency", "exchange")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill(client: redis.Redis, stream: str, n: int, quote_ids: bool = True) -> float:
    started = time.perf_counter()
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "BTC-USD", "ETH-USD", "SPY"]
    ts0 = time.time_ns() // 1000
    for start in range(0, n, 5000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(n, start + 5000)):
            symbol = symbols[i % len(symbols)]
            quote = {
                "type": "quote",
                "symbol": symbol,
                "price": round(100 + (i % 1000) * 0.01, 2),
                "change": 1.2,
                "change_percent": 0.64,
                "day_volume": 51_234_567 + i,
                "market_hours": "regular",
                "currency": "USD",
                "exchange": "NMS",
                "ts_upstream": ts0 + i,
                "ts_library_in": ts0 + i + 1234,
                "ts_library_out": ts0 + i + 1301,
            }
            fields = {"symbol": symbol, "frame": json.dumps(quote, separators=(",", ":"))}
            if quote_ids:  # as the publisher writes them (docs/redis.md): EPOCH:SEQ, deduped on by server_sql
                fields["quote_id"] = f"bench{os.getpid()}:{i}"
            pipe.xadd(stream, fields)
        pipe.execute()
    return time.perf_counter() - started


def run_server_sql(args: argparse.Namespace, prefix: str, table: str, log: Path) -> dict[str, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "servers.server_sql", "--port", str(port), "--redis-url", args.redis_url]
    cmd += ["--dsn", args.dsn, "--prefix", prefix, "--table", table, "--batch-size", str(args.batch_size)]
    cmd += ["--writers", str(args.writers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_PROXY": "*"})
    try:
        first: tuple[float, int] | None = None
        deadline = time.monotonic() + args.timeout
        rows = 0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server_sql exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                rows = int(httpx.get(f"http://127.0.0.1:{port}/status", timeout=2).json()["rows"])
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            now = time.perf_counter()
            if rows and first is None:
                first = (now, rows)
            if rows >= args.entries:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"server_sql wrote {rows} of {args.entries} rows in {args.timeout}s")
        assert first is not None
        elapsed = now - first[0]
        return {
            "rows": rows,
            "timed_rows": rows - first[1],
            "seconds": elapsed,
            "rows_per_s": (rows - first[1]) / elapsed,
        }
    finally:
        proc.terminate()
        proc.wait(10)


def run_naive(args: argparse.Namespace, client: redis.Redis, stream: str, table: str) -> dict[str, float]:
    """XRANGE a slice, then per quote: parse, INSERT, COMMIT."""
    with psycopg.connect(args.dsn, prepare_threshold=None) as conn:
        conn.execute(
            f"CREATE TABLE {table} (stream_id text PRIMARY KEY, symbol text NOT NULL, price double precision, "
            "change double precision, change_percent double precision, day_volume bigint, market_hours text, "
            "currency text, exchange text, ts_upstream bigint, ts_library_in bigint, ts_library_out bigint)"
        )
        conn.commit()
        started = time.perf_counter()
        entries = client.xrange(stream, count=args.naive)
        for entry_id, fields in entries:
            q = json.loads(fields[b"frame"])
            conn.execute(
                f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    entry_id.decode(),
                    *(q.get(k) for k in QUOTE_KEYS),
                    q["ts_upstream"],
                    q["ts_library_in"],
                    q["ts_library_out"],
                ),
            )
            conn.commit()
        elapsed = time.perf_counter() - started
    return {"rows": len(entries), "seconds": elapsed, "rows_per_s": len(entries) / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=200_000, help="stream entries for server_sql (default 200000)")
    parser.add_argument("--naive", type=int, default=5_000, help="entries for the naive writer (default 5000)")
    parser.add_argument("--batch-size", type=int, default=5000, help="server_sql --batch-size (default 5000)")
    parser.add_argument("--writers", type=int, default=2, help="server_sql --writers (default 2)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    parser.add_argument(
        "--no-quote-ids", action="store_true", help="XADD entries without quote_id, as publishers before it did"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on server_sql after this long")
    parser.add_argument("--out", type=Path, default=Path("bench/results/server_sql.json"))
    args = parser.parse_args()

    tag = f"bench{os.getpid()}"
    prefix, table, naive_table = f"rsdev-bench:{tag}:", f"bench_{tag}", f"bench_{tag}_naive"
    stream = f"{prefix}quotes"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    client = redis.Redis.from_url(args.redis_url)
    try:
        fill_s = fill(client, stream, args.entries, not args.no_quote_ids)
        print(f"filled {args.entries} entries in {fill_s:.1f}s", file=sys.stderr)
        server = run_server_sql(args, prefix, table, args.out.with_name("server_sql-bench.log"))
        naive = run_naive(args, client, stream, naive_table)
        with psycopg.connect(args.dsn) as conn:
            stored = conn.execute(f"SELECT count(*), count(DISTINCT stream_id) FROM {table}").fetchone()
    finally:
        client.delete(stream)
        client.close()
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}, {naive_table}")
    ratio = server["rows_per_s"] / naive["rows_per_s"]
    result = {
        "entries": args.entries,
        "batch_size": args.batch_size,
        "server_sql": server,
        "naive": naive,
        "ratio": ratio,
        "rows_stored": stored[0] if stored else None,
        "distinct_ids": stored[1] if stored else None,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    args.out.write_text(json.dumps(result, indent=2))
    print("| writer | rows | seconds | rows/s |\n|---|---:|---:|---:|")
    print(
        f"| server_sql (COPY batches of {args.batch_size}, {args.writers} writers) | {server['timed_rows']:.0f} "
        f"| {server['seconds']:.2f} | {server['rows_per_s']:,.0f} |"
    )
    print(
        f"| naive (INSERT + COMMIT per quote) | {naive['rows']:.0f} | {naive['seconds']:.2f} "
        f"| {naive['rows_per_s']:,.0f} |"
    )
    print(
        f"\nserver_sql / naive: {ratio:.1f}x; rows stored {result['rows_stored']} (distinct ids "
        f"{result['distinct_ids']}); load average {result['load_average'][0]:.2f} on {result['cpus']} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
