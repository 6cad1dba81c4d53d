"""Fan market data out to WebSocket clients. With no config it serves a synthetic feed on
127.0.0.1:8765 without auth; flags override the config file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib_common.flags import Option, non_negative_float, positive_float
from lib_common.ingestors.yahoo.streamer import YAHOO_STREAMER_URL
from servers.kit.command import ServerCommand, ws_url
from servers.redis_options import redis_url_option
from servers.restream.config import FEEDS, load_config


def parse_symbols(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise argparse.ArgumentTypeError("expected a comma-separated list of symbols, e.g. AAPL,MSFT")
    return symbols


def _absolute(text: str) -> str:
    return str(Path(text).resolve())


# --publish comes before --redis-url: `publish?.redis_url` sets the publisher's Redis only where
# publishing is on, so --redis-url alone never turns it on.
OPTIONS = (
    Option("--feed", "feed.kind", "where quotes come from (default synthetic)", choices=FEEDS),
    Option(
        "--symbols",
        "feed.symbols",
        "quoted (and published) whether or not a client subscribes, comma-separated; the synthetic feed "
        "quotes only these. Without it, whatever clients subscribe to",
        type=parse_symbols,
    ),
    Option("--rate", "feed.rate", "synthetic feed: quotes per second per symbol (default 2)", type=positive_float),
    Option(
        "--upstream-url",
        "feed.upstream_url",
        f"yahoo feed: the streamer to connect to (default {YAHOO_STREAMER_URL}; e.g. a local server_dummy)",
        type=ws_url,
    ),
    Option(
        "--replay-file",
        "feed.replay.files",
        "replay feed: a recorded file (server_log's quotes-YYYY-MM-DD.ndjson[.gz], or any NDJSON of quote "
        "frames) or a directory of day files; give it again for more, played in order",
        type=_absolute,
        metavar="FILE",
        kind="append",
    ),
    Option(
        "--replay-from",
        "feed.replay.from",
        "replay feed: a directory's day files from this day (inclusive)",
        metavar="YYYY-MM-DD",
    ),
    Option(
        "--replay-to",
        "feed.replay.to",
        "replay feed: a directory's day files up to this day (inclusive)",
        metavar="YYYY-MM-DD",
    ),
    Option(
        "--speed",
        "feed.replay.speed",
        "replay feed: times the recorded pace (default 1: real time; 0: as fast as the clients take it)",
        type=non_negative_float,
    ),
    Option("--loop", "feed.replay.loop", "replay feed: begin again at the end (each pass a day later)", kind="on"),
    Option(
        "--publish",
        "publish.enabled",
        "publish every quote frame to Redis (pub/sub PREFIX+quote:SYMBOL and the stream PREFIX+quotes)",
        kind="on",
    ),
    redis_url_option(("feed.redis_url", "publish?.redis_url"), "Redis for --feed redis and for --publish"),
)

COMMAND = ServerCommand(
    "restream",
    __doc__ or "",
    config_help="listen, tls, feed, tenants, memory, registry, limits, publish",
    load=load_config,
    options=OPTIONS,
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())
