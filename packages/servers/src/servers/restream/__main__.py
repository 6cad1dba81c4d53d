"""restream command line: `restream [--config FILE.json5] [--host H] [--port P] ...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib_common.errors import ConfigError
from lib_common.flags import positive_float
from servers.http_views import serve_gateway
from servers.redis_options import redis_url
from servers.restream.app import create_app
from servers.restream.config import FEEDS, YAHOO_STREAMER_URL, RestreamConfig, load_config
from servers.serving import LOG_LEVELS, configure_logging, ws_url


def parse_symbols(text: str) -> tuple[str, ...]:
    symbols = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    if not symbols:
        raise argparse.ArgumentTypeError("expected a comma-separated list of symbols, e.g. AAPL,MSFT")
    return symbols


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="restream",
        description="Fan market data out to WebSocket clients. With no config it serves a synthetic "
        "feed on 127.0.0.1:8765 without auth; flags override the config file.",
    )
    parser.add_argument(
        "--config", type=Path, help="JSON5 config file (listen, tls, feed, tenants, memory, registry, limits, publish)"
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8765; 0 picks a free one)")
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
        "--publish",
        action="store_const",
        const=True,
        help="publish every quote frame to Redis (pub/sub PREFIX+quote:SYMBOL and the stream PREFIX+quotes)",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="log verbosity (default info)")
    return parser


def resolve_config(args: argparse.Namespace) -> RestreamConfig:
    return load_config(args.config).with_overrides(
        host=args.host,
        port=args.port,
        feed_kind=args.feed,
        feed_symbols=args.symbols,
        feed_rate=args.rate,
        feed_upstream_url=args.upstream_url,
        feed_redis_url=args.redis_url,
        publish_redis_url=args.redis_url,
        publish_enabled=args.publish,
        log_level=args.log_level,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = resolve_config(args)
    except ConfigError as exc:
        print(f"restream: config error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    memory = config.memory
    serve_gateway(
        create_app(config), config, high_water_bytes=memory.high_water_bytes, sndbuf_bytes=memory.sndbuf_bytes
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
