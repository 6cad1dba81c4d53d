"""The psycopg side of server_sql: one connection, one transaction per batch.

A batch is COPYed into a staging table and moved into `quotes` with ON CONFLICT DO NOTHING,
all in one transaction: a redelivered entry (its ack lost to a crash or an outage) and a frame
the publisher sent again (a new entry) both find their row by the table's key (schema.py), and
neither adds anything. `prepare_threshold=None` keeps every statement
unprepared, so the sink works through PgBouncer or Supavisor in transaction pooling mode.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql

from lib_common.errors import BusMessageError
from lib_common.metrics import Exposition
from lib_common.redis_bus.stream import StreamEntry
from servers.durable.consumer import WriteResult
from servers.durable.errors import SinkUnavailable
from servers.server_sql.rows import Row, quote_row
from servers.server_sql.schema import create_statements, frame_statements, key_index, staging_statements

log = logging.getLogger(__name__)

Statements = tuple[sql.Composed, sql.Composed, sql.Composed]


Connection = psycopg.AsyncConnection[tuple[object, ...]]


class PostgresSink:
    """`writers` connections, so that PostgreSQL works on one batch while it receives the next
    (order does not matter here: a row's key is its quote id, or its stream id without one)."""

    def __init__(self, dsn: str, table: str = "quotes", writers: int = 2) -> None:
        self.dsn = dsn
        self.table = table
        self.writers = writers
        self._conns: list[Connection] = []
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        self._schema_ready = False
        self._checked = staging_statements(table)
        self._fast = frame_statements(table)
        self.fallbacks = 0
        self.inserted = 0
        self.connects = 0
        self.transactions = 0

    async def open(self) -> None:
        try:
            for _ in range(self.writers):
                conn = await psycopg.AsyncConnection.connect(self.dsn, prepare_threshold=None, connect_timeout=5)
                self._conns.append(conn)
                self._idle.put_nowait(conn)
                self.connects += 1
            if not self._schema_ready:
                conn = self._conns[0]
                async with conn.transaction():
                    cur = await conn.execute(
                        "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
                        (self.table, key_index(self.table)),
                    )
                    exists, keyed = await cur.fetchone() or (False, False)
                    for statement in create_statements(self.table, exists=bool(exists), keyed=bool(keyed)):
                        await conn.execute(statement)
                self._schema_ready = True
        except psycopg.Error as exc:
            await self.close()
            raise SinkUnavailable(f"postgresql: {_first_line(exc)}") from exc

    async def close(self) -> None:
        conns, self._conns, self._idle = self._conns, [], asyncio.Queue()
        for conn in conns:
            await conn.close()

    async def maintain(self) -> None:
        return None

    async def write(self, entries: list[StreamEntry], redelivered: bool) -> WriteResult:
        if not self._conns:
            raise SinkUnavailable("not connected to postgresql")
        conn = await self._idle.get()
        try:
            return await self._write(conn, entries)
        finally:
            self._idle.put_nowait(conn)

    async def _write(self, conn: Connection, entries: list[StreamEntry]) -> WriteResult:
        try:
            try:
                inserted = await self._copy_insert(conn, self._fast, [copy_text(entries)])
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                # A frame PostgreSQL cannot take apart: check each one here, leave the bad out.
                self.fallbacks += 1
                log.info("batch of %d rejected (%s); writing it the checked way", len(entries), _first_line(exc))
                rows, malformed = checked_rows(entries)
                inserted = await self._copy_insert(conn, self._checked, rows) if rows else 0
                return self._done(inserted, len(rows), malformed)
        except psycopg.Error as exc:
            raise SinkUnavailable(f"postgresql: {_first_line(exc)}") from exc
        return self._done(inserted, len(entries), 0)

    async def _copy_insert(self, conn: Connection, statements: Statements, data: list[Row] | list[bytes]) -> int:
        """One transaction: staging table, COPY, INSERT ... ON CONFLICT DO NOTHING; rows inserted."""
        create, copy_into, insert = statements
        async with conn.transaction(), conn.cursor() as cur:
            await cur.execute(create)
            async with cur.copy(copy_into) as copy:
                for item in data:
                    if isinstance(item, bytes):
                        await copy.write(item)
                    else:
                        await copy.write_row(item)
            await cur.execute(insert)
            return max(cur.rowcount, 0)

    def _done(self, inserted: int, rows: int, malformed: int) -> WriteResult:
        self.transactions += 1
        self.inserted += inserted
        return WriteResult(inserted, duplicates=rows - inserted, malformed=malformed)

    def status(self) -> dict[str, object]:
        return {
            "table": self.table,
            "connected": bool(self._conns) and not any(conn.closed for conn in self._conns),
            "connects": self.connects,
            "transactions": self.transactions,
            "inserted": self.inserted,
        }

    def expose(self, out: Exposition, prefix: str) -> None:
        out.gauge(f"{prefix}_db_connected", "1 while connected to PostgreSQL.", int(bool(self.status()["connected"])))
        out.counter(f"{prefix}_db_transactions_total", "Batch transactions committed.", self.transactions)
        out.counter(
            f"{prefix}_db_checked_batches_total",
            "Batches PostgreSQL rejected as they came, written again after checking each entry.",
            self.fallbacks,
        )
        out.counter(f"{prefix}_db_connects_total", "Connections opened to PostgreSQL.", self.connects)


_COPY_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"), (b"\x00", b""))


def _copy_field(value: bytes) -> bytes:
    """A value in COPY's text format (backslash escapes; NUL cannot be sent at all)."""
    for raw, escaped in _COPY_ESCAPES:
        value = value.replace(raw, escaped)
    return value


_NULL = b"\\N"  # COPY's NULL


def copy_text(entries: list[StreamEntry]) -> bytes:
    """(stream_id, quote_id, symbol, frame) lines for COPY FROM STDIN, one blob for the batch."""
    blob = b"".join([b"%s\t%s\t%s\t%s\n" % (e.id.encode(), _quote_id(e), e.symbol.encode(), e.frame) for e in entries])
    nulls = [e.quote_id for e in entries].count(None)
    if _is_plain(blob, len(entries), nulls):  # the common case: the batch checked in a few C scans
        return blob
    return b"".join(
        [
            b"%s\t%s\t%s\t%s\n"
            % (e.id.encode(), _quote_id(e, _copy_field), _copy_field(e.symbol.encode()), _copy_field(e.frame))
            for e in entries
        ]
    )


def _quote_id(entry: StreamEntry, escape: Callable[[bytes], bytes] = bytes) -> bytes:
    return _NULL if entry.quote_id is None else escape(entry.quote_id.encode())


def _is_plain(blob: bytes, lines: int, nulls: int) -> bool:
    """No value in the blob needs a COPY escape: the only tabs and newlines are the separators,
    and the only backslashes those of the `nulls` NULL quote ids (`\\N`)."""
    return (
        blob.count(b"\t") == 3 * lines
        and blob.count(b"\n") == lines
        and blob.count(b"\\") == nulls
        and b"\r" not in blob
        and b"\x00" not in blob
    )


def checked_rows(entries: list[StreamEntry]) -> tuple[list[Row], int]:
    rows: list[Row] = []
    malformed = 0
    for entry in entries:
        try:
            rows.append(quote_row(entry))
        except BusMessageError as exc:
            malformed += 1
            log.warning("skipping entry %s: %s", entry.id, exc)
    return rows, malformed


def _first_line(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0]
