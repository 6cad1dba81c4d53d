"""redis2ws command line: `redis2ws [--config FILE.json5] [--host H] [--port P] [--redis-url URL]`."""

from __future__ import annotations

import argparse
import sys

from servers.http_views import serve_gateway
from servers.redis2ws.config import DEFAULT_PORT, BridgeConfig, load_config
from servers.redis_options import redis_url
from servers.serving import add_common_flags, configure_logging, load_or_exit, overridden


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redis2ws",
        description="Bridge Redis pub/sub to WebSocket clients: they subscribe to channels and patterns "
        "(allowed per tenant) on ws://HOST:PORT/ws; one Redis subscription per channel whatever the "
        "number of clients. Flags override the config file.",
    )
    add_common_flags(
        parser, config_help="listen, tls, redis_url, tenants, memory, registry, limits", default_port=DEFAULT_PORT
    )
    parser.add_argument("--redis-url", type=redis_url, help="the Redis to bridge (default redis://127.0.0.1:6379/0)")
    return parser


def resolve_config(args: argparse.Namespace) -> BridgeConfig:
    return overridden(
        load_config(args.config), host=args.host, port=args.port, redis_url=args.redis_url, log_level=args.log_level
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit("redis2ws", lambda: resolve_config(args))
    configure_logging(config.log_level)
    from servers.redis2ws.app import create_app  # after --help and config errors

    memory = config.memory
    serve_gateway(
        create_app(config), config, high_water_bytes=memory.high_water_bytes, sndbuf_bytes=memory.sndbuf_bytes
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
