"""What a table's unique keys cost PostgreSQL: server_sql's write (COPY into a staging table,
then INSERT ... ON CONFLICT DO NOTHING, one transaction a batch) into three layouts, alternated
round by round so that they share the machine's noise:

- stream_pk: `stream_id` PRIMARY KEY only (the layout before quote ids);
- two_keys: `stream_id` PRIMARY KEY and a unique index on `quote_id` (earlier tables, migrated);
- one_key: one unique index on COALESCE(quote_id, stream_id) (server_sql's layout).

    uv run --all-packages python bench/server_sql/keys.py [--rows 100000] [--batches 5] [--rounds 4]

Prints rows/s per layout and round, the medians and each median's ratio to stream_pk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import psycopg

LAYOUTS = {
    "stream_pk": ("stream_id text PRIMARY KEY, quote_id text", None),
    "two_keys": ("stream_id text PRIMARY KEY, quote_id text UNIQUE", None),
    "one_key": ("stream_id text NOT NULL, quote_id text", "((COALESCE(quote_id, stream_id)))"),
}
TABLE = "bench_keys"


def batch(offset: int, rows: int) -> bytes:
    """COPY text of (stream_id, quote_id, symbol, price, ts_upstream) rows."""
    lines = (f"{n}-0\tbench:{n}\tSYM{n % 37}\t{100 + n % 1000 * 0.01}\t{n}\n" for n in range(offset, offset + rows))
    return "".join(lines).encode()


def write_rate(conn: psycopg.Connection[tuple[object, ...]], layout: str, rows: int, batches: int) -> float:
    columns, key = LAYOUTS[layout]
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"CREATE TABLE {TABLE} ({columns}, symbol text, price double precision, ts_upstream bigint)")
    if key is not None:
        conn.execute(f"CREATE UNIQUE INDEX {TABLE}_key ON {TABLE} {key}")
    spent = 0.0
    for b in range(batches):
        data = batch(b * rows, rows)
        started = time.perf_counter()
        with conn.transaction():
            conn.execute(
                "CREATE TEMP TABLE staging (stream_id text, quote_id text, symbol text, price double precision,"
                " ts_upstream bigint) ON COMMIT DROP"
            )
            with conn.cursor().copy("COPY staging FROM STDIN") as copy:
                copy.write(data)
            conn.execute(f"INSERT INTO {TABLE} SELECT * FROM staging ON CONFLICT DO NOTHING")
        spent += time.perf_counter() - started
    return rows * batches / spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    parser.add_argument("--rows", type=int, default=100_000, help="rows a batch (default 100000)")
    parser.add_argument("--batches", type=int, default=5, help="batches a layout and round (default 5)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, the layouts alternated in each (default 4)")
    args = parser.parse_args()
    rates: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        try:
            for _ in range(args.rounds):
                for layout in LAYOUTS:
                    rates[layout].append(write_rate(conn, layout, args.rows, args.batches))
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    base = statistics.median(rates["stream_pk"])
    print("| layout | rows/s, round by round | median | x stream_pk |\n|---|---|---:|---:|")
    for layout, values in rates.items():
        median = statistics.median(values)
        print(f"| {layout} | {', '.join(f'{v:,.0f}' for v in values)} | {median:,.0f} | {median / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
