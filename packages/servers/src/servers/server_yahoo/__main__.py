"""server_yahoo command line: `server_yahoo [--config FILE.json5] [--port 8771] [--upstream-url URL]`."""

from __future__ import annotations

import argparse
import sys

from servers.egress import GatewayProtocol
from servers.server_yahoo.config import DEFAULT_PORT, YAHOO_STREAMER_URL, ProxyConfig, load_config
from servers.serving import add_common_flags, configure_logging, load_or_exit, overridden, serve, ws_url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="server_yahoo",
        description="Legacy proxy: clients speak Yahoo's streamer protocol to it (ws://HOST:PORT/); it keeps one "
        "upstream subscription per symbol, relays upstream frames unchanged, and survives upstream drops.",
    )
    add_common_flags(
        parser, config_help="listen, upstream_url, linger_s, per_connection, memory", default_port=DEFAULT_PORT
    )
    parser.add_argument(
        "--upstream-url", type=ws_url, help=f"the streamer to connect to (default {YAHOO_STREAMER_URL})"
    )
    return parser


def resolve_config(args: argparse.Namespace) -> ProxyConfig:
    return overridden(
        load_config(args.config),
        host=args.host,
        port=args.port,
        upstream_url=args.upstream_url,
        log_level=args.log_level,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit("server_yahoo", lambda: resolve_config(args))
    configure_logging(config.log_level)
    from servers.server_yahoo.app import create_app  # after --help and config errors

    serve(create_app(config), host=config.host, port=config.port, ws=GatewayProtocol, log_level=config.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
