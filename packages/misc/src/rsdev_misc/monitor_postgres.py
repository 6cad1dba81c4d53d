"""monitor_postgres: is PostgreSQL answering, and how fast?

Each check connects (or reuses its connection), runs `SELECT 1`, upserts a heartbeat row and
reports the latency. Statements go with `prepare_threshold=None` (never server-side prepared),
so the monitor works through PgBouncer or Supavisor in transaction pooling mode, where a
prepared statement would land on another backend. TLS through libpq's `sslmode`/`sslrootcert`.

{
  dsn: "postgresql://monitor@db.example:5432/app",
  sslmode: "verify-full",            // optional, libpq's
  sslrootcert: "/etc/ssl/ca.pem",    // optional, libpq's
  heartbeat_table: "rsdev_heartbeat",
  name: "monitor_postgres",          // the heartbeat row's key
  interval_s: 30, timeout_s: 5,
  health: { host: "127.0.0.1", port: 9411 },   // optional /health port in loop mode
  log_level: "info",
}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from lib_common.config import Section, read_config
from lib_common.flags import config_flags, load_or_exit, read_log_level
from rsdev_misc.monitor import (
    MONITOR_FLAGS,
    CheckResult,
    HealthListen,
    add_monitor_flags,
    configure,
    read_health,
    run_main,
)

PROG = "monitor_postgres"
DEFAULT_DSN = "postgresql://127.0.0.1:5432/postgres"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True, slots=True)
class PostgresConfig:
    dsn: str = DEFAULT_DSN
    sslmode: str | None = None
    sslrootcert: str | None = None
    heartbeat_table: str = "rsdev_heartbeat"
    name: str = PROG
    interval_s: float = 30.0
    timeout_s: float = 5.0
    health: HealthListen = field(default_factory=HealthListen)
    log_level: str = "info"


def from_section(root: Section) -> PostgresConfig:
    root.only(
        ["dsn", "sslmode", "sslrootcert", "heartbeat_table", "name", "interval_s", "timeout_s", "health", "log_level"]
    )
    d = PostgresConfig()
    table = root.optional_str("heartbeat_table") or d.heartbeat_table
    if not _IDENTIFIER.match(table):
        root.problem("heartbeat_table", f"expected a plain SQL identifier, found {table!r}")
    sslmode = root.optional_str("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        root.problem("sslmode", f"expected one of {', '.join(SSLMODES)}, found {sslmode!r}")
    return PostgresConfig(
        dsn=root.optional_str("dsn") or d.dsn,
        sslmode=sslmode,
        sslrootcert=root.optional_str("sslrootcert"),
        heartbeat_table=table,
        name=root.optional_str("name") or d.name,
        interval_s=root.number("interval_s", d.interval_s, minimum=0.01),
        timeout_s=root.number("timeout_s", d.timeout_s, minimum=0.01),
        health=read_health(root),
        log_level=read_log_level(root),
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
                connect_timeout=max(1, round(self.config.timeout_s)),
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
        return {"query_ms": round(query_ms, 3), "server_version": version, "heartbeat_table": table}

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        try:
            details = await asyncio.wait_for(self._probe(), self.config.timeout_s)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            await self.close()
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return CheckResult(False, error=f"{type(exc).__name__}: {message}")
        return CheckResult(True, latency_ms=(time.perf_counter() - started) * 1000, details=details)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
                await asyncio.wait_for(conn.close(), self.config.timeout_s)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check PostgreSQL (directly or through PgBouncer/Supavisor): SELECT 1, a heartbeat row, "
        "latency. Loop mode, or --once for cron (exit 0 healthy, 1 unhealthy, 2 usage/config error).",
    )
    add_monitor_flags(parser, config_help="dsn, sslmode, sslrootcert, heartbeat_table, health", default_interval=30)
    parser.add_argument("--dsn", help=f"libpq connection string or URL (default {DEFAULT_DSN})")
    return parser


FLAGS = {**MONITOR_FLAGS, "--dsn": "dsn"}


def resolve(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> PostgresConfig:
    """The config file, the environment (os.environ by default) and the flags, in that order."""
    return read_config(args.config, from_section, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit(PROG, lambda: resolve(args))
    configure(PROG, args, config.log_level)
    return run_main(PROG, PostgresProbe(config), once=args.once, interval_s=config.interval_s, health=config.health)


if __name__ == "__main__":
    sys.exit(main())
