"""server_log command line: `server_log [--config FILE.json5] --redis-url URL --dir DIR`."""

from __future__ import annotations

import sys
from pathlib import Path

from lib_common.flags import Option
from servers.durable.cli import ConsumerCommand, bounded, usage_error
from servers.durable.consumer import Sink
from servers.server_log.config import DEFAULT_PORT, NAME, SINK_KEYS, LogConfig, from_section


def open_sink(config: LogConfig) -> Sink:
    if config.dir is None:
        usage_error(NAME, "no directory: give --dir DIR or dir in the config")
    from lib_common.clock import LoopClock
    from servers.server_log.files import LogSink
    from servers.server_log.rotation import RotationPolicy

    return LogSink(config.dir, LoopClock(), RotationPolicy(config.close_grace_s))


COMMAND = ConsumerCommand(
    NAME,
    "Durable consumer of the quotes stream (Redis consumer group) that appends each quote as a "
    "JSON line to DIR/quotes-YYYY-MM-DD.ndjson (the New York date of its ts_upstream), fsyncs before acking, "
    "and gzips a day's file to .ndjson.gz once that NY day has closed. GET /health, /status and /metrics.",
    default_port=DEFAULT_PORT,
    sink_keys=SINK_KEYS,
    sink_options=(
        Option("--dir", "dir", "directory for the day files (required here or in the config)", type=Path),
        Option(
            "--close-grace-s",
            "close_grace_s",
            "close a NY day this long after its midnight (default 300)",
            type=bounded(float, 0, 86_400),
        ),
    ),
    build=from_section,
    open_sink=open_sink,
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())
