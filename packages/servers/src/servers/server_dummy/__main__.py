"""server_dummy command line: `server_dummy [--config FILE.json5] [--host H] [--port P] [--rate N] [--log-level L]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from lib_common.flags import config_flags, positive_float
from servers.kit.serving import COMMON_FLAGS, run_server, server_parser
from servers.server_dummy.config import DEFAULT_PORT, DummyConfig, load_config
from servers.server_dummy.transport import DummyProtocol

# The flags and the config paths they set.
FLAGS = {**COMMON_FLAGS, "--rate": "rate"}


def build_parser() -> argparse.ArgumentParser:
    parser = server_parser(
        "server_dummy",
        "A local stand-in for Yahoo's streamer (WebSocket on /, also /?version=2), Yahoo's chart API "
        "(/v8/finance/chart/SYMBOL) and CNN's Fear & Greed (/index/fearandgreed/graphdata), with random-walk "
        'prices. Fault injection: POST /fault {"mode": "stall"|"close"|"abort"|"malformed"|"http_error"|'
        '"http_429"|"none"}; GET /fault, /status and /health report. Flags override the config file.',
        config_help="listen {host, port}, rate, max_symbols, unknown_symbols, seed, log_level",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument(
        "--rate", type=positive_float, help="pricing frames per second per subscribed symbol (default 1)"
    )
    return parser


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> DummyConfig:
    """The config file, the environment (os.environ by default), then the flags."""
    return load_config(args.config, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    # The app pulls in betterproto and starlette, which --help does not need: run_server imports it late.
    return run_server(
        "server_dummy",
        lambda: resolve_config(build_parser().parse_args(argv)),
        "servers.server_dummy.app",
        options=lambda _: {"ws": DummyProtocol},
    )


if __name__ == "__main__":
    sys.exit(main())
