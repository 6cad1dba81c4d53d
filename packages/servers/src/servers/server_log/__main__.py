"""server_log command line: `server_log [--config FILE.json5] --redis-url URL --dir DIR`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from lib_common.flags import load_or_exit
from servers.durable.cli import bounded, read, require_redis, run_consumer, usage_error
from servers.durable.config import add_consumer_flags
from servers.kit.serving import add_common_flags
from servers.server_log.config import DEFAULT_PORT, NAME, LogConfig, from_section


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=NAME,
        description="Durable consumer of the quotes stream (Redis consumer group) that appends each quote as a "
        "JSON line to DIR/quotes-YYYY-MM-DD.ndjson (the New York date of its ts_upstream), fsyncs before acking, "
        "and gzips a day's file to .ndjson.gz once that NY day has closed. GET /health, /status and /metrics.",
    )
    add_common_flags(
        parser,
        config_help="listen, dir, close_grace_s, redis_url, prefix, group, consumer, batch_size, max_wait_ms, "
        "claim_idle_s, retention_entries, retention_warn_ratio, log_level",
        default_port=DEFAULT_PORT,
    )
    add_consumer_flags(parser)
    parser.add_argument("--dir", type=Path, help="directory for the day files (required here or in the config)")
    parser.add_argument(
        "--close-grace-s",
        type=bounded(float, 0, 86_400),
        help="close a NY day this long after its midnight (default 300)",
    )
    return parser


SINK_FLAGS = {"--dir": "dir", "--close-grace-s": "close_grace_s"}


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> LogConfig:
    """The config file, the environment (os.environ by default), then the flags."""
    return read(args, from_section, SINK_FLAGS, env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit(NAME, lambda: resolve_config(args))
    require_redis(NAME, config)
    if config.dir is None:
        usage_error(NAME, "no directory: give --dir DIR or dir in the config")
    from lib_common.clock import LoopClock
    from servers.server_log.files import LogSink
    from servers.server_log.rotation import RotationPolicy

    run_consumer(NAME, config, LogSink(config.dir or Path(), LoopClock(), RotationPolicy(config.close_grace_s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
