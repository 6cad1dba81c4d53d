"""server_sql command line: `server_sql [--config FILE.json5] --redis-url URL --dsn DSN`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from lib_common.flags import load_or_exit
from servers.durable.cli import bounded, read, require_redis, run_consumer, usage_error
from servers.durable.config import add_consumer_flags
from servers.kit.serving import add_common_flags
from servers.server_sql.config import DEFAULT_PORT, NAME, SqlConfig, from_section


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=NAME,
        description="Durable consumer of the quotes stream (Redis consumer group) that writes table `quotes` in "
        "PostgreSQL in COPY batches, exactly once per stream entry, through outages and restarts. "
        "GET /health, /status and /metrics on its port.",
    )
    add_common_flags(
        parser,
        config_help="listen, dsn, table, redis_url, prefix, group, consumer, batch_size, "
        "max_wait_ms, claim_idle_s, retention_entries, retention_warn_ratio, log_level",
        default_port=DEFAULT_PORT,
    )
    add_consumer_flags(parser)
    parser.add_argument("--dsn", help="PostgreSQL DSN or URL (required here or in the config)")
    parser.add_argument("--table", help="table to write (default quotes)")
    parser.add_argument("--writers", type=bounded(int, 1, 16), help="connections writing batches at once (default 2)")
    return parser


SINK_FLAGS = {"--dsn": "dsn", "--table": "table", "--writers": "writers"}


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> SqlConfig:
    """The config file, the environment (os.environ by default), then the flags."""
    return read(args, from_section, SINK_FLAGS, env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit(NAME, lambda: resolve_config(args))
    require_redis(NAME, config)
    if not config.dsn:
        usage_error(NAME, "no database: give --dsn DSN or dsn in the config")
    from servers.server_sql.writer import PostgresSink

    run_consumer(NAME, config, PostgresSink(config.dsn or "", config.table, config.writers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
