"""server_sql command line: `server_sql [--config FILE.json5] --redis-url URL --dsn DSN`."""

from __future__ import annotations

import sys

from lib_common.flags import Option
from servers.durable.cli import ConsumerCommand, bounded, usage_error
from servers.durable.consumer import Sink
from servers.server_sql.config import DEFAULT_PORT, NAME, SINK_KEYS, SqlConfig, from_section


def open_sink(config: SqlConfig) -> Sink:
    if not config.dsn:
        usage_error(NAME, "no database: give --dsn DSN or dsn in the config")
    from servers.server_sql.writer import PostgresSink

    return PostgresSink(config.dsn, config.table, config.writers)


COMMAND = ConsumerCommand(
    NAME,
    "Durable consumer of the quotes stream (Redis consumer group) that writes table `quotes` in "
    "PostgreSQL in COPY batches, exactly once per stream entry, through outages and restarts. "
    "GET /health, /status and /metrics on its port.",
    default_port=DEFAULT_PORT,
    sink_keys=SINK_KEYS,
    sink_options=(
        Option("--dsn", "dsn", "PostgreSQL DSN or URL (required here or in the config)"),
        Option("--table", "table", "table to write (default quotes)"),
        Option("--writers", "writers", "connections writing batches at once (default 2)", type=bounded(int, 1, 16)),
    ),
    build=from_section,
    open_sink=open_sink,
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())
