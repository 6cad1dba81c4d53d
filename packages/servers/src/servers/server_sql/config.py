"""server_sql's configuration: JSON5 file, RSDEV__ variables, then flags (docs/config.md).
Besides what every durable consumer's config has (listen, log_level, redis_url and the
consumer's keys: servers.durable.config):

  dsn: "postgresql://user@127.0.0.1:5432/quotes",   // libpq DSN or URL (sslmode etc. as libpq reads them)
  table: "quotes",
  writers: 2,                 // connections writing batches at once (PostgreSQL parses one while
                              // the next arrives); 1 for strictly one batch at a time
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from lib_common.config import Section
from lib_common.dsn import dsn_problems
from servers.durable.config import ServerConfig, read_server
from servers.server_sql.schema import TABLE_NAME

NAME = "server_sql"
DEFAULT_PORT = 8774
SINK_KEYS = ("dsn", "table", "writers")


@dataclass(frozen=True, slots=True, kw_only=True)
class SqlConfig(ServerConfig):
    dsn: str | None = None
    table: str = "quotes"
    writers: int = 2


def from_section(root: Section) -> SqlConfig:
    common = read_server(root, NAME, DEFAULT_PORT, SINK_KEYS)
    table = root.optional_str("table") or "quotes"
    if not TABLE_NAME.match(table):
        root.problem("table", f"expected a lower-case SQL name ([a-z_][a-z0-9_]*), found {table!r}")
    writers = root.integer("writers", 2, minimum=1, maximum=16)
    dsn = root.optional_str("dsn")
    if dsn:  # a missing one is __main__'s usage error
        for problem in dsn_problems(dsn, conninfo_to_dict, (psycopg.ProgrammingError,)):
            root.problem("dsn", problem)
    return SqlConfig(**common, dsn=dsn, table=table, writers=writers)
