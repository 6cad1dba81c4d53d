"""server_yahoo command line: `server_yahoo [--config FILE.json5] [--port 8771] [--upstream-url URL]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from lib_common.flags import config_flags
from lib_common.ingestors.yahoo.streamer import YAHOO_STREAMER_URL
from servers.kit.serving import COMMON_FLAGS, run_gateway, server_parser, ws_url
from servers.server_yahoo.config import DEFAULT_PORT, ProxyConfig, load_config


def build_parser() -> argparse.ArgumentParser:
    parser = server_parser(
        "server_yahoo",
        "Legacy proxy: clients speak Yahoo's streamer protocol to it (ws://HOST:PORT/); it keeps one "
        "upstream subscription per symbol, relays upstream frames unchanged, and survives upstream drops.",
        config_help="listen, upstream_url, linger_s, per_connection, memory",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument(
        "--upstream-url", type=ws_url, help=f"the streamer to connect to (default {YAHOO_STREAMER_URL})"
    )
    return parser


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ProxyConfig:
    """The config file, then RSDEV__ variables, then the flags (docs/config.md)."""
    flags = config_flags(args, {**COMMON_FLAGS, "--upstream-url": "upstream_url"})
    return load_config(args.config, flags=flags, env=env)


def main(argv: list[str] | None = None) -> int:
    return run_gateway(
        "server_yahoo", lambda: resolve_config(build_parser().parse_args(argv)), "servers.server_yahoo.app"
    )


if __name__ == "__main__":
    sys.exit(main())
