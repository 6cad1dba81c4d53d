"""redis2ws command line: `redis2ws [--config FILE.json5] [--host H] [--port P] [--redis-url URL]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from lib_common.flags import config_flags
from servers.kit.serving import COMMON_FLAGS, run_gateway, server_parser
from servers.redis2ws.config import DEFAULT_PORT, BridgeConfig, load_config
from servers.redis_options import redis_url


def build_parser() -> argparse.ArgumentParser:
    parser = server_parser(
        "redis2ws",
        "Bridge Redis pub/sub to WebSocket clients: they subscribe to channels and patterns "
        "(allowed per tenant) on ws://HOST:PORT/ws; one Redis subscription per channel whatever the "
        "number of clients. Flags override the config file.",
        config_help="listen, tls, redis_url, tenants, memory, registry, limits",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument("--redis-url", type=redis_url, help="the Redis to bridge (default redis://127.0.0.1:6379/0)")
    return parser


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> BridgeConfig:
    """The config file, then RSDEV__ variables, then the flags (docs/config.md)."""
    flags = config_flags(args, {**COMMON_FLAGS, "--redis-url": "redis_url"})
    return load_config(args.config, flags=flags, env=env)


def main(argv: list[str] | None = None) -> int:
    return run_gateway("redis2ws", lambda: resolve_config(build_parser().parse_args(argv)), "servers.redis2ws.app")


if __name__ == "__main__":
    sys.exit(main())
