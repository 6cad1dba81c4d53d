"""Table `quotes`: one row per published quote, under one key: its quote id, or its stream
entry id where the publisher stamped none.

    CREATE TABLE IF NOT EXISTS quotes (
        stream_id      text NOT NULL,         -- Redis stream entry id
        quote_id       text,                  -- the publisher's EPOCH:SEQ
        symbol         text NOT NULL,
        price          double precision,
        change         double precision,
        change_percent double precision,
        day_volume     bigint,
        market_hours   text,
        currency       text,
        exchange       text,
        ts_upstream    bigint,                -- µs since the epoch, as on the wire
        ts_library_in  bigint,
        ts_library_out bigint,
        extra          jsonb,                 -- provider-specific fields (e.g. Fear & Greed's rating)
        ts             timestamptz GENERATED ALWAYS AS (to_timestamp(ts_upstream / 1e6::double precision)) STORED
    );
    CREATE UNIQUE INDEX IF NOT EXISTS quotes_key ON quotes ((COALESCE(quote_id, stream_id)));
    CREATE INDEX IF NOT EXISTS quotes_symbol_ts_idx ON quotes (symbol, ts_upstream);
    CREATE INDEX IF NOT EXISTS quotes_ts_idx ON quotes USING brin (ts_upstream);

The key catches both ways a quote comes again: a redelivered entry (its ack lost to a crash
or an outage) has the same quote id, or the same stream id when it has no quote id; a frame
the publisher sent again is a new entry with the same quote id. The two never collide: a quote
id has a colon, a stream id (`MS-SEQ`, `@SHARD` on a cluster) none. One unique index, not one
per id: a second costs ~40 % of PostgreSQL's insert rate (docs/server_sql.md, "Keys").

A table of an earlier release (stream_id PRIMARY KEY) is kept as it is and given what it lacks
at server_sql's first connect: the quote_id column (`ALTER TABLE ... ADD COLUMN IF NOT EXISTS`:
no rewrite, old rows NULL, and NULLs never conflict) and a unique index on it (building it
reads the table once). It keeps working with two keys; docs/server_sql.md says how to move it
to one.

Fields the frame leaves out are NULL. Rows come in through a staging table per transaction
(`CREATE TEMP TABLE ... ON COMMIT DROP`, filled by COPY, then INSERT ... ON CONFLICT DO
NOTHING, on either key): nothing outlives the transaction on the server connection, which is
what PgBouncer's transaction pooling needs.

Two ways in. The fast one COPYs (stream_id, symbol, frame) as they came and lets PostgreSQL
take the frame apart (`jsonb_to_record`), so the consumer never parses JSON. It holds each
frame to the bus's format where that costs nothing: "type": "quote", a symbol, both ingest
timestamps, a known session (`IN_FORMAT`); the bigint columns take only 64-bit integers and
PostgreSQL's JSON refuses NaN. If PostgreSQL rejects the batch, it goes again the checked way:
each frame decoded by the bus's one decoder (`lib_common.redis_bus.format.decode_quote_frame`,
in `rows.py`), bad entries left out and counted, the rest COPYed as typed rows. What the fast
way lets through that the decoder would not: a value of the wrong JSON type that PostgreSQL
converts (a string "1.5" for a price, a number for a currency) and extras that are not scalars.
"""

from __future__ import annotations

import re

from psycopg import sql

from lib_common.redis_bus.format import MARKET_HOURS

TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# (column, type) in COPY order; `ts` is generated from ts_upstream.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("stream_id", "text"),
    ("quote_id", "text"),
    ("symbol", "text"),
    ("price", "double precision"),
    ("change", "double precision"),
    ("change_percent", "double precision"),
    ("day_volume", "bigint"),
    ("market_hours", "text"),
    ("currency", "text"),
    ("exchange", "text"),
    ("ts_upstream", "bigint"),
    ("ts_library_in", "bigint"),
    ("ts_library_out", "bigint"),
    ("extra", "jsonb"),
)
NAMES = [name for name, _ in COLUMNS]


def _columns() -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in NAMES)


def key_index(table: str) -> str:
    """The name of a table's one key (`quotes_key`), whose presence says the table has it."""
    return f"{table}_key"


def create_statements(table: str, *, exists: bool, keyed: bool) -> list[sql.Composed]:
    """What makes `table` ready: the table with its one key when it does not exist; for a table
    that exists without that key (an earlier release's, keyed by stream_id), the quote_id
    column and a unique index on it; for either, the query indexes."""
    t = sql.Identifier(table)
    statements: list[sql.Composed] = []
    if not exists:
        body = sql.SQL(",\n    ").join(
            sql.SQL("{} {}{}").format(
                sql.Identifier(name), sql.SQL(kind), sql.SQL(" NOT NULL" if name in ("stream_id", "symbol") else "")
            )
            for name, kind in COLUMNS
        )
        statements += [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (\n    {},\n"
                "    ts timestamptz GENERATED ALWAYS AS (to_timestamp(ts_upstream / 1e6::double precision)) STORED\n)"
            ).format(t, body),
            sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ((COALESCE(quote_id, stream_id)))").format(
                sql.Identifier(key_index(table)), t
            ),
        ]
    elif not keyed:
        statements += [
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS quote_id text").format(t),
            sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (quote_id)").format(
                sql.Identifier(f"{table}_quote_id_key"), t
            ),
        ]
    return [
        *statements,
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (symbol, ts_upstream)").format(
            sql.Identifier(f"{table}_symbol_ts_idx"), t
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING brin (ts_upstream)").format(
            sql.Identifier(f"{table}_ts_idx"), t
        ),
    ]


def staging_statements(table: str) -> tuple[sql.Composed, sql.Composed, sql.Composed]:
    """CREATE the staging table, COPY into it, INSERT from it (in one transaction)."""
    staging = sql.Identifier(f"{table}_staging")
    definition = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(k)) for n, k in COLUMNS)
    return (
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(staging, definition),
        sql.SQL("COPY {} ({}) FROM STDIN").format(staging, _columns()),
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
            sql.Identifier(table), _columns(), _columns(), staging
        ),
    )


# The decoder's required fields, checked on the fast path where it costs nothing: on the values
# jsonb_to_record already took out. A frame that fails makes `symbol` NULL, which the table's
# NOT NULL refuses, so the batch goes the checked way and the entry is counted as malformed.
# (A CHECK on the staging table doing the decoder's every rule cost ~8 µs a row: a third of
# the rate. Literals are ours: no user input here.)
IN_FORMAT = (
    "q.type = 'quote' AND q.symbol <> '' AND q.ts_upstream IS NOT NULL AND q.ts_library_in IS NOT NULL"
    " AND (q.market_hours IS NULL OR q.market_hours IN (" + ", ".join(f"'{m}'" for m in sorted(MARKET_HOURS)) + "))"
)


def frame_statements(table: str) -> tuple[sql.Composed, sql.Composed, sql.Composed]:
    """The fast way: CREATE a (stream_id, quote_id, symbol, frame) staging table, COPY into it,
    INSERT from it with the frame's fields taken apart by PostgreSQL."""
    staging = sql.Identifier(f"{table}_frames")
    fields = [(n, k) for n, k in COLUMNS if n not in ("stream_id", "quote_id", "extra")]
    record = sql.SQL(", ").join(
        [sql.SQL("type text"), *(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(k)) for n, k in fields)]
    )
    values = [
        sql.SQL("s.stream_id"),
        sql.SQL("s.quote_id"),
        sql.SQL("CASE WHEN {} THEN q.symbol END").format(sql.SQL(IN_FORMAT)),
        *(sql.SQL("q.{}").format(sql.Identifier(n)) for n, _ in fields[1:]),
        sql.SQL("NULLIF(s.frame - {}::text[], '{{}}'::jsonb)").format(sql.Literal(["type", *(n for n, _ in fields)])),
    ]
    return (
        sql.SQL("CREATE TEMP TABLE {} (stream_id text, quote_id text, symbol text, frame jsonb) ON COMMIT DROP").format(
            staging
        ),
        sql.SQL("COPY {} (stream_id, quote_id, symbol, frame) FROM STDIN").format(staging),
        sql.SQL(
            "INSERT INTO {} ({}) SELECT {} FROM {} s, jsonb_to_record(s.frame) AS q({}) ON CONFLICT DO NOTHING"
        ).format(sql.Identifier(table), _columns(), sql.SQL(", ").join(values), staging, record),
    )
