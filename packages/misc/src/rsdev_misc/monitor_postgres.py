"""monitor_postgres: is PostgreSQL answering, and how fast?

Each check connects (or reuses its connection), runs `SELECT 1`, upserts a heartbeat row and
reports the latency. Statements go with `prepare_threshold=None` (never server-side prepared),
so the monitor works through PgBouncer or Supavisor in transaction pooling mode, where a
prepared statement would land on another backend. TLS through libpq's `sslmode`/`sslrootcert`
(in the DSN or as keys of their own, which win); each check reports `tls` (whether the connection
is encrypted), and a certificate that fails verification is said to be so, naming the CA file.
An `sslrootcert` file that does not exist is a config error.

{
  dsn: "postgresql://monitor@db.example:5432/app",
  sslmode: "verify-full",            // optional, libpq's
  sslrootcert: "/etc/ssl/ca.pem",    // optional, libpq's
  heartbeat_table: "rsdev_heartbeat",
  name: "monitor_postgres",          // the heartbeat row's key
  interval_s: 30, timeout_s: 5,  // health, log_level: as every monitor (rsdev_misc.command)
}
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from lib_common.config import Section
from lib_common.dsn import SSLMODES, dsn_problems
from lib_common.flags import Option
from rsdev_misc.command import SCHEDULE_KEYS, Monitor, Schedule, read_schedule
from rsdev_misc.monitor import CheckResult

PROG = "monitor_postgres"
DEFAULT_DSN = "postgresql://127.0.0.1:5432/postgres"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SCHEDULE = Schedule(interval_s=30.0, timeout_s=5.0)


@dataclass(frozen=True, slots=True)
class PostgresConfig:
    dsn: str = DEFAULT_DSN
    sslmode: str | None = None
    sslrootcert: str | None = None
    heartbeat_table: str = "rsdev_heartbeat"
    name: str = PROG
    schedule: Schedule = SCHEDULE


def from_section(root: Section) -> PostgresConfig:
    root.only(["dsn", "sslmode", "sslrootcert", "heartbeat_table", "name", *SCHEDULE_KEYS])
    d = PostgresConfig()
    table = root.optional_str("heartbeat_table") or d.heartbeat_table
    if not _IDENTIFIER.match(table):
        root.problem("heartbeat_table", f"expected a plain SQL identifier, found {table!r}")
    dsn = root.optional_str("dsn") or d.dsn
    for problem in dsn_problems(dsn, conninfo_to_dict, (psycopg.ProgrammingError,)):
        root.problem("dsn", problem)
    sslmode = root.optional_str("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        root.problem("sslmode", f"expected one of {', '.join(SSLMODES)}, found {sslmode!r}")
    sslrootcert = root.optional_str("sslrootcert")
    if sslrootcert is not None and sslrootcert != "system" and not os.path.isfile(sslrootcert):
        root.problem("sslrootcert", f"no such file: {sslrootcert!r} (a PEM CA file, or 'system' for the OS's roots)")
    return PostgresConfig(
        dsn=dsn,
        sslmode=sslmode,
        sslrootcert=sslrootcert,
        heartbeat_table=table,
        name=root.optional_str("name") or d.name,
        schedule=read_schedule(root, d.schedule),
    )


class PostgresProbe:
    def __init__(self, config: PostgresConfig) -> None:
        self.config = config
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._table_ready = False

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            options: dict[str, object] = {}
            if self.config.sslmode is not None:
                options["sslmode"] = self.config.sslmode
            if self.config.sslrootcert is not None:
                options["sslrootcert"] = self.config.sslrootcert
            self._conn = await psycopg.AsyncConnection.connect(
                self.config.dsn,
                autocommit=True,
                prepare_threshold=None,
                connect_timeout=max(1, round(self.config.schedule.timeout_s)),
                application_name=PROG,
                **options,  # type: ignore[arg-type]
            )
            self._table_ready = False
        return self._conn

    async def _probe(self) -> dict[str, object]:
        conn = await self._connect()
        table = self.config.heartbeat_table
        started = time.perf_counter()
        await conn.execute("SELECT 1")
        query_ms = (time.perf_counter() - started) * 1000
        if not self._table_ready:
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} "
                "(name text PRIMARY KEY, beat_at timestamptz NOT NULL, latency_ms double precision)"
            )
            self._table_ready = True
        await conn.execute(
            f"INSERT INTO {table} (name, beat_at, latency_ms) VALUES (%s, now(), %s) "
            "ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at, latency_ms = excluded.latency_ms",
            (self.config.name, query_ms),
        )
        version = conn.info.server_version
        return {
            "query_ms": round(query_ms, 3),
            "server_version": version,
            "heartbeat_table": table,
            "tls": conn.pgconn.ssl_in_use,
        }

    def _ca_file(self) -> str:
        if self.config.sslrootcert is not None:
            return self.config.sslrootcert
        with contextlib.suppress(psycopg.Error):
            given = conninfo_to_dict(self.config.dsn).get("sslrootcert")
            if given:
                return str(given)
        return "~/.postgresql/root.crt"  # libpq's default

    def _explain(self, message: str) -> str:
        """libpq's words for a failed verification, with what the operator can check."""
        if "certificate verify failed" in message:
            return f"{message} (the server's certificate is not signed by the CA in {self._ca_file()})"
        if "does not match host name" in message:
            return f"{message} (sslmode=verify-full: the DSN's host must be a name the certificate lists)"
        return message

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        try:
            details = await asyncio.wait_for(self._probe(), self.config.schedule.timeout_s)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            await self.close()
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return CheckResult(False, error=f"{type(exc).__name__}: {self._explain(message)}")
        return CheckResult(True, latency_ms=(time.perf_counter() - started) * 1000, details=details)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
                await asyncio.wait_for(conn.close(), self.config.schedule.timeout_s)


MONITOR = Monitor(
    prog=PROG,
    description="Check PostgreSQL (directly or through PgBouncer/Supavisor): SELECT 1, a heartbeat row, latency.",
    config_help="dsn, sslmode, sslrootcert, heartbeat_table, health",
    schedule=SCHEDULE,
    from_section=from_section,
    probe=PostgresProbe,
    flags=[Option("--dsn", "dsn", f"libpq connection string or URL (default {DEFAULT_DSN})")],
    subject="PostgreSQL",
)

if __name__ == "__main__":
    sys.exit(MONITOR.main())
