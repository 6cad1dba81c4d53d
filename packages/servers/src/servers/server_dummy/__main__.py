"""server_dummy command line: `server_dummy [--config FILE.json5] [--host H] [--port P] [--rate N] [--log-level L]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from lib_common.flags import LOG_LEVELS, config_flags, load_or_exit, positive_float
from servers.kit.serving import configure_logging, serve
from servers.server_dummy.config import DEFAULT_PORT, DummyConfig, load_config
from servers.server_dummy.transport import DummyProtocol

# The flags and the config paths they set.
FLAGS = {"--host": "listen.host", "--port": "listen.port", "--rate": "rate", "--log-level": "log_level"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="server_dummy",
        description="A local stand-in for Yahoo's streamer (WebSocket on /, also /?version=2), Yahoo's chart API "
        "(/v8/finance/chart/SYMBOL) and CNN's Fear & Greed (/index/fearandgreed/graphdata), with random-walk "
        'prices. Fault injection: POST /fault {"mode": "stall"|"close"|"abort"|"malformed"|"http_error"|'
        '"http_429"|"none"}; GET /fault, /status and /health report. Flags override the config file.',
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="JSON5 config file (listen {host, port}, rate, max_symbols, unknown_symbols, seed, log_level)",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument(
        "--rate", type=positive_float, help="pricing frames per second per subscribed symbol (default 1)"
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="log verbosity (default info)")
    return parser


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> DummyConfig:
    """The config file, the environment (os.environ by default), then the flags."""
    return load_config(args.config, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit("server_dummy", lambda: resolve_config(args))
    configure_logging(config.log_level)
    # Imported late: the app pulls in betterproto and starlette, which --help does not need.
    from servers.server_dummy.app import create_app

    serve(create_app(config), host=config.host, port=config.port, ws=DummyProtocol, log_level=config.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
