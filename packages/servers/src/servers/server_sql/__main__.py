"""server_sql command line: `server_sql [--config FILE.json5] --redis-url URL --dsn DSN`."""

from __future__ import annotations

import argparse
import sys

from servers.durable.cli import ConsumerCommand, bounded, consumer_parser, usage_error
from servers.durable.consumer import Sink
from servers.server_sql.config import DEFAULT_PORT, NAME, SINK_KEYS, SqlConfig, from_section


def build_parser() -> argparse.ArgumentParser:
    parser = consumer_parser(
        NAME,
        "Durable consumer of the quotes stream (Redis consumer group) that writes table `quotes` in "
        "PostgreSQL in COPY batches, exactly once per stream entry, through outages and restarts. "
        "GET /health, /status and /metrics on its port.",
        sink_keys=SINK_KEYS,
        default_port=DEFAULT_PORT,
    )
    parser.add_argument("--dsn", help="PostgreSQL DSN or URL (required here or in the config)")
    parser.add_argument("--table", help="table to write (default quotes)")
    parser.add_argument("--writers", type=bounded(int, 1, 16), help="connections writing batches at once (default 2)")
    return parser


def open_sink(config: SqlConfig) -> Sink:
    if not config.dsn:
        usage_error(NAME, "no database: give --dsn DSN or dsn in the config")
    from servers.server_sql.writer import PostgresSink

    return PostgresSink(config.dsn, config.table, config.writers)


COMMAND = ConsumerCommand(NAME, from_section, {"--dsn": "dsn", "--table": "table", "--writers": "writers"}, open_sink)
resolve_config = COMMAND.resolve  # the config file, the environment (os.environ by default), then the flags


def main(argv: list[str] | None = None) -> int:
    return COMMAND.run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
