"""restream command line: `restream [--config FILE.json5] [--host H] [--port P] ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from lib_common.flags import config_flags, non_negative_float, positive_float
from lib_common.ingestors.yahoo.streamer import YAHOO_STREAMER_URL
from servers.kit.serving import COMMON_FLAGS, run_gateway, server_parser, ws_url
from servers.redis_options import redis_url
from servers.restream.config import FEEDS, RestreamConfig, load_config


def parse_symbols(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise argparse.ArgumentTypeError("expected a comma-separated list of symbols, e.g. AAPL,MSFT")
    return symbols


def build_parser() -> argparse.ArgumentParser:
    parser = server_parser(
        "restream",
        "Fan market data out to WebSocket clients. With no config it serves a synthetic "
        "feed on 127.0.0.1:8765 without auth; flags override the config file.",
        config_help="listen, tls, feed, tenants, memory, registry, limits, publish",
        default_port=8765,
    )
    parser.add_argument("--feed", choices=FEEDS, help="where quotes come from (default synthetic)")
    parser.add_argument(
        "--symbols",
        type=parse_symbols,
        help="synthetic feed: only these symbols (comma-separated); without it, whatever clients subscribe to",
    )
    parser.add_argument("--rate", type=positive_float, help="synthetic feed: quotes per second per symbol (default 2)")
    parser.add_argument(
        "--upstream-url",
        type=ws_url,
        help=f"yahoo feed: the streamer to connect to (default {YAHOO_STREAMER_URL}; e.g. a local server_dummy)",
    )
    parser.add_argument(
        "--redis-url",
        type=redis_url,
        help="Redis for --feed redis and for --publish (default redis://127.0.0.1:6379/0)",
    )
    parser.add_argument(
        "--replay-file",
        action="append",
        type=lambda text: str(Path(text).resolve()),
        metavar="FILE",
        help="replay feed: a recorded file (server_log's quotes-YYYY-MM-DD.ndjson[.gz], or any NDJSON of quote "
        "frames) or a directory of day files; give it again for more, played in order",
    )
    parser.add_argument(
        "--replay-from", metavar="YYYY-MM-DD", help="replay feed: a directory's day files from this day (inclusive)"
    )
    parser.add_argument(
        "--replay-to", metavar="YYYY-MM-DD", help="replay feed: a directory's day files up to this day (inclusive)"
    )
    parser.add_argument(
        "--speed",
        type=non_negative_float,
        help="replay feed: times the recorded pace (default 1: real time; 0: as fast as the clients take it)",
    )
    parser.add_argument(
        "--loop", action="store_const", const=True, help="replay feed: begin again at the end (each pass a day later)"
    )
    parser.add_argument(
        "--publish",
        action="store_const",
        const=True,
        help="publish every quote frame to Redis (pub/sub PREFIX+quote:SYMBOL and the stream PREFIX+quotes)",
    )
    return parser


# Flag -> the config path(s) it sets. --publish comes first: `publish?.redis_url` sets the
# publisher's Redis only where publishing is on, so --redis-url alone never turns it on.
FLAGS = {
    **COMMON_FLAGS,
    "--feed": "feed.kind",
    "--symbols": "feed.symbols",
    "--rate": "feed.rate",
    "--upstream-url": "feed.upstream_url",
    "--replay-file": "feed.replay.files",
    "--replay-from": "feed.replay.from",
    "--replay-to": "feed.replay.to",
    "--speed": "feed.replay.speed",
    "--loop": "feed.replay.loop",
    "--publish": "publish.enabled",
    "--redis-url": ["feed.redis_url", "publish?.redis_url"],
}


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> RestreamConfig:
    """The config file, then RSDEV__ variables, then the flags (docs/config.md)."""
    return load_config(args.config, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    return run_gateway("restream", lambda: resolve_config(build_parser().parse_args(argv)), "servers.restream.app")


if __name__ == "__main__":
    sys.exit(main())
