"""server_sql's configuration: JSON5 file, RSDEV__ variables, then flags (docs/config.md).

{
  listen: { host: "127.0.0.1", port: 8774 },
  dsn: "postgresql://user@127.0.0.1:5432/quotes",   // libpq DSN or URL (sslmode etc. as libpq reads them)
  table: "quotes",
  writers: 2,                 // connections writing batches at once (PostgreSQL parses one while
                              // the next arrives); 1 for strictly one batch at a time
  redis_url: "redis://127.0.0.1:6379/0",
  // and the durable consumer's keys: prefix, group, consumer, batch_size, max_wait_ms,
  // claim_idle_s, retention_entries, retention_warn_ratio (see servers.durable.config)
  log_level: "info",
}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib_common import config
from lib_common.config import Section
from servers.durable.config import ConsumerConfig, read_server
from servers.server_sql.schema import TABLE_NAME

NAME = "server_sql"
DEFAULT_PORT = 8774


@dataclass(frozen=True, slots=True)
class SqlConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    dsn: str | None = None
    table: str = "quotes"
    writers: int = 2
    consumer: ConsumerConfig = field(default_factory=lambda: ConsumerConfig(NAME))
    log_level: str = "info"


def from_section(root: Section) -> SqlConfig:
    common = read_server(root, NAME, DEFAULT_PORT, ["dsn", "table", "writers"])
    table = root.optional_str("table") or "quotes"
    if not TABLE_NAME.match(table):
        root.problem("table", f"expected a lower-case SQL name ([a-z_][a-z0-9_]*), found {table!r}")
    writers = root.integer("writers", 2, minimum=1, maximum=16)
    return SqlConfig(**common, dsn=root.optional_str("dsn"), table=table, writers=writers)


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(from_section)
load_config = LOADER.load
parse_config = LOADER.parse
