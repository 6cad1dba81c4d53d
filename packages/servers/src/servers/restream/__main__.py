"""restream command line: `restream [--config FILE.json5] [--host H] [--port P] ...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib_common.errors import ConfigError
from servers.egress import GatewayProtocol
from servers.restream.app import create_app
from servers.restream.config import FEEDS, YAHOO_STREAMER_URL, RestreamConfig, load_config
from servers.serving import LOG_LEVELS, configure_logging, positive_float, serve, ws_url

MAX_WS_MESSAGE = 1 << 20  # larger messages close with 1009; up to it they get an error frame


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
        "--config", type=Path, help="JSON5 config file (listen, tls, feed, tenants, memory, registry, limits)"
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
    protocol = GatewayProtocol.configured(
        high_water_bytes=config.memory.high_water_bytes, sndbuf_bytes=config.memory.sndbuf_bytes
    )
    serve(
        create_app(config),
        host=config.host,
        port=config.port,
        ws=protocol,
        log_level=config.log_level,
        ws_max_size=MAX_WS_MESSAGE,
        ssl_certfile=config.tls_cert,
        ssl_keyfile=config.tls_key,
        backlog=4096,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
